#include "common/redis/redis_reply.h"

#include <hiredis/hiredis.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace signpost::redis {

Reply Reply::FromHiredis(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = Type::kString;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Type::kStatus;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Type::kError;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Type::kInteger;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Type::kArray;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) out.elements.push_back(FromHiredis(*r.element[i]));
      break;
    default:
      out.type = Type::kNil;
  }
  return out;
}

namespace {

// Error prefixes of a server that cannot take the command now but will again without any change
// to the command: loading, busy with a script, a cluster slot moving, a replica without its
// master, full (OOM under maxmemory: keys expire or memory is raised), a replica answering a
// write after a failover (READONLY) or a master short of replicas (NOREPLICAS), a failed
// background save refusing writes (MISCONF), a cluster that is down (CLUSTERDOWN).
constexpr absl::string_view kTransientPrefixes[] = {
    "LOADING",  "BUSY",       "TRYAGAIN", "MASTERDOWN",  "OOM",
    "READONLY", "NOREPLICAS", "MISCONF",  "CLUSTERDOWN",
};

bool StartsWithWord(absl::string_view message, absl::string_view word) {
  return absl::StartsWith(message, word) &&
         (message.size() == word.size() || message[word.size()] == ' ');
}

}  // namespace

absl::Status ErrorReplyStatus(const std::string& message) {
  std::string text = absl::StrCat("redis: ", message);
  for (absl::string_view prefix : kTransientPrefixes) {
    if (StartsWithWord(message, prefix)) return absl::UnavailableError(text);
  }
  if (absl::StartsWith(message, "WRONGTYPE")) return absl::FailedPreconditionError(text);
  if (absl::StartsWith(message, "NOSCRIPT")) return absl::NotFoundError(text);
  return absl::InternalError(text);
}

}  // namespace signpost::redis

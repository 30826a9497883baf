#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

struct redisReply;

namespace signpost::redis {

// An owned copy of a RESP2 reply.
struct Reply {
  enum class Type { kNil, kString, kInteger, kArray, kStatus, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<Reply> elements;

  bool is_nil() const { return type == Type::kNil; }
  static Reply FromHiredis(const redisReply& reply);
};

// The status an error reply stands for: a server that cannot take the command for a while
// (LOADING, BUSY, TRYAGAIN, MASTERDOWN, OOM, READONLY, NOREPLICAS, MISCONF, CLUSTERDOWN) is
// UNAVAILABLE (try again), WRONGTYPE is FAILED_PRECONDITION, NOSCRIPT is NOT_FOUND (load the
// script), the rest INTERNAL.
absl::Status ErrorReplyStatus(const std::string& message);

}  // namespace signpost::redis

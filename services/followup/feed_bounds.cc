#include "services/followup/feed_bounds.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace signpost::followup {

std::optional<FeedToken> FeedToken::Parse(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, '-');
  FeedToken token;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &token.ms) ||
      !absl::SimpleAtoi(parts[1], &token.seq)) {
    return std::nullopt;
  }
  return token;
}

FeedBounds FeedBounds::FromXinfo(const redis::Reply& reply) {
  FeedBounds feed;
  std::optional<int64_t> length, added;
  const auto& fields = reply.elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& name = fields[i].str;
    const redis::Reply& value = fields[i + 1];
    if (name == "last-generated-id") {
      feed.last_generated = FeedToken::Parse(value.str).value_or(FeedToken{});
    } else if (name == "max-deleted-entry-id") {
      feed.max_deleted = FeedToken::Parse(value.str).value_or(FeedToken{});
    } else if (name == "length") {
      length = value.integer;
    } else if (name == "entries-added") {
      added = value.integer;
    } else if (name == "first-entry" && !value.elements.empty()) {
      feed.first = FeedToken::Parse(value.elements[0].str);
    }
  }
  if (length && added) feed.removed = *added - *length;
  return feed;
}

bool HoldsEverythingAfter(const FeedBounds& feed, const FeedToken& token) {
  // An entry after the token was deleted.
  if (token < feed.max_deleted) return false;
  // Nothing ever removed: everything after any token is there.
  if (feed.removed && *feed.removed == 0) return true;
  // Everything removed: only a token at the very end has nothing after it.
  if (!feed.first) return token == feed.last_generated;
  // Trimming removes the oldest entries: a token the feed still holds (or a later one) misses
  // nothing; an older one may have had entries after it trimmed away.
  return token >= *feed.first;
}

}  // namespace signpost::followup

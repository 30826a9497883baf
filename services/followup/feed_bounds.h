#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/redis/redis_reply.h"

namespace signpost::followup {

// Stream ids ("<ms>-<seq>") are the resume tokens.
struct FeedToken {
  uint64_t ms = 0;
  uint64_t seq = 0;
  auto operator<=>(const FeedToken&) const = default;
  static std::optional<FeedToken> Parse(const std::string& text);
};

// What a queue's feed (a Redis stream) still holds, as XINFO STREAM tells it.
struct FeedBounds {
  FeedToken last_generated;  // the newest id ever added
  // The newest id removed by XDEL. Trimming by length (XADD MAXLEN) does not move it on Redis
  // 7.0, so it alone cannot tell that a token was trimmed away.
  FeedToken max_deleted;
  std::optional<FeedToken> first;  // the oldest entry still held; none when the feed is empty
  // How many entries were ever removed (entries-added minus length); unknown before Redis 7.0.
  std::optional<int64_t> removed;

  // From the XINFO STREAM reply (its fields in pairs).
  static FeedBounds FromXinfo(const redis::Reply& reply);
};

// Whether every update after `token` is still in the feed, so resuming from it misses nothing.
// False when anything after it may have been trimmed or deleted: start again from a snapshot.
bool HoldsEverythingAfter(const FeedBounds& feed, const FeedToken& token);

}  // namespace signpost::followup

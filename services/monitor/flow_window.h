#pragma once

#include <array>
#include <cstdint>

#include "absl/time/time.h"

namespace signpost::monitor {

// Messages and bytes over the last `kSeconds` seconds, in one-second buckets: a rate that moves
// with the traffic and forgets it after a minute. Time is passed in.
class FlowWindow {
 public:
  static constexpr int kSeconds = 60;

  void Add(absl::Time at, int64_t bytes);
  // Per second over the window ending at `now` (a window not yet full counts what it has seen
  // over the whole window: a rate that rises as traffic starts, never an inflated one).
  double MessagesPerSecond(absl::Time now) const;
  double BytesPerSecond(absl::Time now) const;

 private:
  struct Bucket {
    int64_t second = -1;
    int64_t messages = 0;
    int64_t bytes = 0;
  };
  template <typename F>
  double Sum(absl::Time now, F field) const;

  std::array<Bucket, kSeconds> buckets_{};
};

}  // namespace signpost::monitor

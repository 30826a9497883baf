#pragma once

#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace signpost {

// The wall clock, shifted by the number of seconds written in a file (re-read at most every
// 100 ms). For drills and tests that need deadlines to pass now: every instance pointed at the
// same file agrees on the time. No file, or an empty path: the wall clock.
class OffsetClock {
 public:
  explicit OffsetClock(std::string path) : path_(std::move(path)) {}
  absl::Time Now();

 private:
  std::string path_;
  absl::Mutex mu_;
  absl::Time read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration offset_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

}  // namespace signpost

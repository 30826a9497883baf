#include "common/process/offset_clock.h"

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

namespace signpost {

absl::Time OffsetClock::Now() {
  absl::Time now = absl::Now();
  if (path_.empty()) return now;
  absl::MutexLock lock(&mu_);
  if (now - read_at_ > absl::Milliseconds(100)) {
    read_at_ = now;
    std::ifstream in(path_);
    std::string text;
    double seconds = 0;
    if (in && std::getline(in, text) &&
        absl::SimpleAtod(absl::StripAsciiWhitespace(text), &seconds)) {
      offset_ = absl::Seconds(seconds);
    }
  }
  return now + offset_;
}

}  // namespace signpost

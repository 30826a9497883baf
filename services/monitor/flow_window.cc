#include "services/monitor/flow_window.h"

namespace signpost::monitor {

void FlowWindow::Add(absl::Time at, int64_t bytes) {
  int64_t second = absl::ToUnixSeconds(at);
  Bucket& b = buckets_[static_cast<size_t>(second % kSeconds)];
  if (b.second > second) return;  // a minute older than what the bucket holds: out of any window
  if (b.second != second) b = {second, 0, 0};
  b.messages += 1;
  b.bytes += bytes;
}

template <typename F>
double FlowWindow::Sum(absl::Time now, F field) const {
  int64_t end = absl::ToUnixSeconds(now);
  double total = 0;
  for (const Bucket& b : buckets_) {
    if (b.second > end - kSeconds && b.second <= end) total += field(b);
  }
  return total / kSeconds;
}

double FlowWindow::MessagesPerSecond(absl::Time now) const {
  return Sum(now, [](const Bucket& b) { return static_cast<double>(b.messages); });
}

double FlowWindow::BytesPerSecond(absl::Time now) const {
  return Sum(now, [](const Bucket& b) { return static_cast<double>(b.bytes); });
}

}  // namespace signpost::monitor

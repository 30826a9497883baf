#pragma once

#include <google/protobuf/timestamp.pb.h>

#include "absl/time/time.h"

namespace signpost::events {

inline google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  int64_t nanos = absl::ToUnixNanos(time);
  google::protobuf::Timestamp out;
  int64_t seconds = nanos / 1000000000;
  int64_t rest = nanos % 1000000000;
  if (rest < 0) {
    rest += 1000000000;
    --seconds;
  }
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(rest));
  return out;
}

inline absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

}  // namespace signpost::events

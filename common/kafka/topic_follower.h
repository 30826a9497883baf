#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <librdkafka/rdkafkacpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/kafka/message.h"

namespace signpost::kafka {

// Reads a (compacted) topic from its beginning and then follows it, applying every message to a
// local copy, without a consumer group: each instance always reads all of it. That is how a
// cache is rebuilt from its source of truth. Ready() turns true once everything that was in the
// topic at the start has been applied; when `still_valid` says the copy was lost (for instance
// a FLUSHALL), or the copy was reset under a read (ABORTED), the topic is read again from the
// beginning.
class TopicFollower {
 public:
  struct Options {
    std::string bootstrap;
    std::string topic;
    std::map<std::string, std::string> properties;
    absl::Duration validity_check_interval = absl::Seconds(2);
  };
  using Apply = std::function<absl::Status(const ConsumedMessage&)>;

  // `begin_read` runs before each full read applies anything (the first and every re-read) and
  // is retried (with backoff) until it succeeds. `apply` is retried (with backoff) until it
  // succeeds: a message is never skipped. `on_caught_up` runs each time a full read completes
  // (again at the next check when it fails); `still_valid` is asked periodically once ready.
  // `apply` or `on_caught_up` answering ABORTED means the copy was reset under this read: the
  // topic is read again from the beginning, from `begin_read`.
  TopicFollower(Options options, std::function<absl::Status()> begin_read, Apply apply,
                std::function<absl::Status()> on_caught_up, std::function<bool()> still_valid);
  ~TopicFollower();

  absl::Status Start();
  void Stop();
  bool Ready() const { return ready_.load(); }

 private:
  void Run();
  absl::Status Rewind();

  Options options_;
  std::function<absl::Status()> begin_read_;
  Apply apply_;
  std::function<absl::Status()> on_caught_up_;
  std::function<bool()> still_valid_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::map<int32_t, int64_t> remaining_;  // partition -> offset to reach before ready
  bool rewind_pending_ = false;           // a re-read is due but has not started yet
  bool read_begun_ = false;               // begin_read succeeded for the current read
  std::atomic<bool> ready_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace signpost::kafka

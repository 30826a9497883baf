#pragma once

#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/kafka/producer.h"

namespace signpost::testing {

// Unit tests only: a producer that records what it is asked to send and acknowledges at once,
// or fails the next `fail_next` sends with `failure`.
class FakeProducer final : public kafka::Producer {
 public:
  void SendAsync(kafka::OutgoingMessage message, DeliveryCallback done) override {
    absl::Status result;
    {
      absl::MutexLock lock(&mu_);
      if (hold_) {  // a send that never completes, as when the process dies mid-send
        held_.emplace_back(std::move(message), std::move(done));
        return;
      }
      if (fail_next_ > 0) {
        --fail_next_;
        result = failure_;
      } else {
        sent_.push_back(std::move(message));
      }
    }
    done(result);
  }

  void FailNext(int count, absl::Status failure = absl::UnavailableError("broker down")) {
    absl::MutexLock lock(&mu_);
    fail_next_ = count;
    failure_ = std::move(failure);
  }

  // While held, sends neither complete nor fail.
  void Hold(bool hold) {
    absl::MutexLock lock(&mu_);
    hold_ = hold;
  }

  // Sends waiting while held.
  size_t HeldCount() const {
    absl::MutexLock lock(&mu_);
    return held_.size();
  }

  // Completes the held sends with `result` (a broker that answers at last, or a delivery that
  // timed out); acknowledged ones count as sent, and so do failed ones that `landed_anyway` (the
  // delivery timed out while the broker stalled, and the broker appended the record on resuming).
  void ReleaseHeld(absl::Status result = absl::OkStatus(), bool landed_anyway = false) {
    std::vector<std::pair<kafka::OutgoingMessage, DeliveryCallback>> held;
    {
      absl::MutexLock lock(&mu_);
      held.swap(held_);
      if (result.ok() || landed_anyway) {
        for (auto& [message, done] : held) sent_.push_back(message);
      }
    }
    for (auto& [message, done] : held) done(result);
  }

  std::vector<kafka::OutgoingMessage> Sent(const std::string& topic) const {
    absl::MutexLock lock(&mu_);
    std::vector<kafka::OutgoingMessage> out;
    for (const auto& m : sent_) {
      if (m.topic == topic) out.push_back(m);
    }
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<kafka::OutgoingMessage> sent_ ABSL_GUARDED_BY(mu_);
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::pair<kafka::OutgoingMessage, DeliveryCallback>> held_ ABSL_GUARDED_BY(mu_);
};

}  // namespace signpost::testing

#include "common/kafka/producer.h"

#include "absl/synchronization/mutex.h"

namespace signpost::kafka {
namespace {

// Waits for a known number of deliveries and keeps the first error.
class DeliveryLatch {
 public:
  explicit DeliveryLatch(size_t expected) : remaining_(expected) {}

  void Done(absl::Status status) {
    absl::MutexLock lock(&mu_);
    if (!status.ok() && first_error_.ok()) first_error_ = std::move(status);
    --remaining_;
  }

  absl::Status Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](size_t* remaining) { return *remaining == 0; }, &remaining_));
    return first_error_;
  }

 private:
  absl::Mutex mu_;
  size_t remaining_ ABSL_GUARDED_BY(mu_);
  absl::Status first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::Status Producer::Send(OutgoingMessage message) {
  DeliveryLatch latch(1);
  SendAsync(std::move(message), [&latch](absl::Status status) { latch.Done(std::move(status)); });
  return latch.Wait();
}

absl::Status Producer::SendAll(std::span<const OutgoingMessage> messages) {
  DeliveryLatch latch(messages.size());
  for (const auto& message : messages) {
    SendAsync(message, [&latch](absl::Status status) { latch.Done(std::move(status)); });
  }
  return latch.Wait();
}

}  // namespace signpost::kafka

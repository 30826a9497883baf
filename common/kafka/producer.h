#pragma once

#include <functional>
#include <span>

#include "absl/status/status.h"
#include "common/kafka/message.h"

namespace signpost::kafka {

// Publishes messages. Implementations are idempotent and wait for acks from all in-sync
// replicas: a send has succeeded only when the broker holds the message.
class Producer {
 public:
  using DeliveryCallback = std::function<void(absl::Status)>;

  virtual ~Producer() = default;

  // Calls `done` exactly once, from the producer's thread, with the delivery result.
  virtual void SendAsync(OutgoingMessage message, DeliveryCallback done) = 0;

  // Blocks until the broker acknowledged the message or the delivery timeout passed
  // (UNAVAILABLE then: the caller may retry; nothing else was recorded).
  absl::Status Send(OutgoingMessage message);

  // Sends all and waits for every delivery; the first failure is returned. Messages to one
  // partition keep their order.
  absl::Status SendAll(std::span<const OutgoingMessage> messages);
};

}  // namespace signpost::kafka

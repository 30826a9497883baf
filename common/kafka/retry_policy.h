#pragma once

#include "absl/status/status.h"
#include "common/kafka/consumer.h"

namespace signpost::kafka {

// The one retry policy of every Signpost consumer: what a handler's status for one message means
// for that message. Pure.
//  - OK: done.
//  - INVALID_ARGUMENT (unreadable or invalid input) and DATA_LOSS (corrupt input, or input that
//    fails authentication): the same message can never succeed, so it goes to the dead-letter
//    topic with the status message as its reason and the consumer moves on.
//  - Everything else is retried with backoff and never dead-lettered: UNAVAILABLE,
//    DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED and INTERNAL are how the infrastructure
//    (Redis, Kafka) fails for a while; FAILED_PRECONDITION, PERMISSION_DENIED, UNAUTHENTICATED
//    and NOT_FOUND say this service is not yet set up for the message (a data key it does not
//    hold, a topic or ACL not created, a key of the wrong type), which an operator fixes; the
//    message then succeeds as it is. A partition that keeps retrying shows as lag on the monitor
//    and resumes by itself, where a message set aside waits for someone to replay it.
// Handlers decide what their own answers mean first (intake counts a rejection it has published
// as done) and ask this for the rest.
Outcome OutcomeOf(const absl::Status& status);

// True when `code` marks a message that can never succeed (see OutcomeOf).
bool IsPoison(absl::StatusCode code);

}  // namespace signpost::kafka

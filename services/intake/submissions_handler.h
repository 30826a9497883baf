#pragma once

#include "common/kafka/consumer.h"
#include "services/intake/fhir_process_message.h"
#include "services/intake/submitter.h"

namespace signpost::intake {

// Content type of protobuf submissions on signpost.referral.submitted (also the default when a
// message has no content-type header).
inline constexpr absl::string_view kProtobufSubmissionContentType =
    "application/x-protobuf; type=signpost.v1.ReferralSubmission";

// Consumes signpost.referral.submitted: protobuf or FHIR submissions go through the Submitter;
// what cannot be read or is invalid is published to signpost.referral.rejected, addressed to the
// sender the message names anywhere (the referral, the FHIR MessageHeader, the Kafka key); when
// Kafka or Redis is unavailable the message is retried, never dropped (and, as with every
// MessageHandler, the rest of its partition in the batch comes again after it).
class SubmissionsHandler final : public kafka::MessageHandler {
 public:
  explicit SubmissionsHandler(Submitter& submitter) : submitter_(submitter) {}

 protected:
  kafka::Outcome HandleMessage(const kafka::ConsumedMessage& message) override;

 private:
  // A FHIR cancellation message: withdraws the sender's referral, or logs why not.
  kafka::Outcome Cancel(const RequestMessage& message, const SenderIdentity& sender);

  Submitter& submitter_;
};

}  // namespace signpost::intake

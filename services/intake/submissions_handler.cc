#include "services/intake/submissions_handler.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/kafka/retry_policy.h"
#include "common/status/field_violations.h"
#include "services/intake/fhir_referral.h"

namespace signpost::intake {

kafka::Outcome SubmissionsHandler::HandleMessage(const kafka::ConsumedMessage& message) {
  std::string content_type(
      kafka::FindHeader(message.headers, kafka::kHeaderContentType).value_or(""));
  std::string traceparent(
      kafka::FindHeader(message.headers, kafka::kHeaderTraceparent).value_or(""));
  bool fhir = absl::StrContains(content_type, "json");
  // The same on every delivery of this record: a rejection of it is dated by it.
  absl::Time sent_at =
      message.timestamp_ms > 0 ? absl::FromUnixMillis(message.timestamp_ms) : absl::InfinitePast();
  auto channel = fhir ? v1::SUBMISSION_CHANNEL_KAFKA_FHIR : v1::SUBMISSION_CHANNEL_KAFKA_PROTOBUF;

  // Who sent it, by what comes around the referral: a rejection goes back to them.
  SenderIdentity sender = SenderFromKafkaKey(message.key);
  absl::StatusOr<v1::Referral> referral;
  if (!message.value) {
    referral = InvalidArgumentWithViolations({{"", "empty message (tombstone)"}});
  } else if (fhir) {
    FhirSubmission read = ReadFhirSubmission(*message.value);
    referral = std::move(read.referral);
    sender = FilledFrom(read.sender, sender);
  } else if (!content_type.empty() && !absl::StrContains(content_type, "protobuf")) {
    referral = InvalidArgumentWithViolations(
        {{"", absl::StrCat("unsupported content type '", content_type, "'; use ",
                           kProtobufSubmissionContentType, " or ", kFhirJsonContentType)}});
  } else {
    v1::ReferralSubmission submission;
    if (submission.ParseFromString(*message.value) && submission.has_referral()) {
      referral = submission.referral();
    } else {
      referral = InvalidArgumentWithViolations(
          {{"", "value is not a serialized signpost.v1.ReferralSubmission with a referral"}});
    }
  }

  if (!referral.ok()) {
    return kafka::OutcomeOf(submitter_.RejectUnreadable(message.key, message.value.value_or(""),
                                                        sender, referral.status(), channel, sent_at,
                                                        traceparent));
  }

  Submission submission;
  submission.referral = *std::move(referral);
  submission.channel = channel;
  submission.traceparent = std::move(traceparent);
  submission.sender = std::move(sender);
  submission.sent_at = sent_at;
  auto result = submitter_.Submit(std::move(submission));
  if (result.ok()) return kafka::Outcome::Done();
  switch (result.status().code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      return kafka::Outcome::Done();  // the rejection is on signpost.referral.rejected
    default:
      return kafka::OutcomeOf(result.status());
  }
}

}  // namespace signpost::intake

#include "services/intake/submissions_handler.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/kafka/retry_policy.h"
#include "common/status/field_violations.h"
#include "services/intake/fhir_process_message.h"
#include "services/intake/fhir_referral.h"
#include "services/intake/message_cancellation.h"
#include "spdlog/spdlog.h"

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
    // The message as POST /fhir/$process-message reads it: the same messages pass, and a
    // cancellation withdraws here too.
    nlohmann::json bundle = nlohmann::json::parse(*message.value, nullptr, false);
    if (!bundle.is_discarded()) {
      absl::Status shape = CheckMessageBundle(bundle);
      absl::StatusOr<RequestMessage> request =
          shape.ok() ? ReadRequestMessage(bundle) : absl::StatusOr<RequestMessage>(shape);
      if (!request.ok()) {
        referral = request.status();
      } else if (request->kind == MessageKind::kCancellation) {
        return Cancel(*request, sender);
      }
    }
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

kafka::Outcome SubmissionsHandler::Cancel(const RequestMessage& message,
                                          const SenderIdentity& sender) {
  // Kafka carries no token: the referral must be the sending practice's own (by the ODS code
  // the message names, as a rejection is addressed).
  auto may_see = [&](absl::string_view referrer_ods_code) {
    if (!sender.referrer_ods_code.empty() && sender.referrer_ods_code == referrer_ods_code) {
      return absl::OkStatus();
    }
    return absl::PermissionDeniedError(
        "the cancellation names no practice, or one other than the referral's");
  };
  auto cancelled = CancelReferral(submitter_, message, may_see,
                                  absl::StrCat("kafka:", sender.referrer_ods_code));
  if (cancelled.ok()) return kafka::Outcome::Done();
  if (cancelled.status().code() == absl::StatusCode::kUnavailable) {
    return kafka::OutcomeOf(cancelled.status());
  }
  // Nothing to tell a sender on this path (a refused cancellation is no rejected referral): it
  // is logged, and its sender learns the state from GetReferral or the Task.
  spdlog::warn("cancellation from {} ({}) refused: {}", sender.source_system,
               sender.referrer_ods_code, cancelled.status().ToString());
  return kafka::Outcome::Done();
}

}  // namespace signpost::intake

#include "services/intake/fhir_http_api.h"

#include <memory>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/events/event_envelope.h"
#include "common/fhir/operation_outcome.h"
#include "common/status/field_violations.h"
#include "services/intake/fhir_process_message.h"
#include "services/intake/fhir_referral.h"
#include "services/intake/message_cancellation.h"
#include "services/intake/referral_access.h"
#include "spdlog/spdlog.h"

namespace signpost::intake {
namespace {

using nlohmann::json;
using Response = metrics::HttpEndpoint::Response;

constexpr char kFhirJson[] = "application/fhir+json";
constexpr char kRpc[] = "FHIR $process-message";
constexpr char kRetryAfterSeconds[] = "5";

// The HTTP status of a failure of a message that was read: invalid content is 422
// (unprocessable), not 400 (unreadable).
int HttpStatusOfProcessing(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInvalidArgument) return 422;
  return fhir::HttpStatusOf(status);
}

Response Answer(int http_status, const json& body) {
  Response response;
  response.status = http_status;
  response.content_type = kFhirJson;
  response.body = body.dump();
  if (http_status == 503 || http_status == 429) {
    response.headers.emplace_back("Retry-After", kRetryAfterSeconds);
  }
  return response;
}

Response Failure(const absl::Status& status, int http_status, const json* bundle = nullptr) {
  fhir::ExpressionOf expression_of = nullptr;
  if (bundle) {
    expression_of = [bundle](absl::string_view field) {
      return ExpressionInMessage(*bundle, field);
    };
  }
  return Answer(http_status, fhir::OperationOutcomeOf(status, http_status, expression_of));
}

bool IsFhirId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return true;
}

bool IsJsonContentType(const std::string& content_type) {
  std::string media = absl::AsciiStrToLower(content_type.substr(0, content_type.find(';')));
  absl::StripAsciiWhitespace(&media);
  return media == "application/fhir+json" || media == "application/json";
}

// What the submitter answers, or UNAVAILABLE once `within` has passed: the listener's thread
// never waits for ever.
absl::StatusOr<SubmitResult> SubmitAndWait(Submitter& submitter, Submission submission,
                                           absl::Duration within) {
  struct Answer {
    absl::Notification done;
    absl::StatusOr<SubmitResult> result = absl::UnavailableError("no answer");
  };
  auto answer = std::make_shared<Answer>();
  submitter.SubmitAsync(std::move(submission), [answer](absl::StatusOr<SubmitResult> result) {
    answer->result = std::move(result);
    answer->done.Notify();
  });
  // The Submitter answers by the submission's deadline; the margin covers its last look.
  if (!answer->done.WaitForNotificationWithTimeout(within + absl::Seconds(5))) {
    return absl::UnavailableError("the referral was not answered in time; send the message again");
  }
  return answer->result;
}

}  // namespace

Response FhirBusyAnswer(const metrics::HttpEndpoint::Request& request) {
  return Failure(
      absl::UnavailableError(
          "intake is answering as many FHIR requests as it can at once; send the request "
          "again after Retry-After"),
      503);
}

Response FhirMessageApi::ProcessMessage(const metrics::HttpEndpoint::Request& request) {
  auto caller = auth_.AuthenticateHeader(request.authorization);
  if (!caller.ok()) {
    Response response = Failure(caller.status(), 401);
    response.headers.emplace_back(
        "WWW-Authenticate",
        request.authorization.empty()
            ? std::string("Bearer realm=\"signpost\"")
            : std::string("Bearer realm=\"signpost\", error=\"invalid_token\""));
    return response;
  }
  if (absl::Status allowed = CanAskAboutReferrals(*caller, kRpc); !allowed.ok()) {
    return Failure(allowed, 403);
  }
  if (!request.content_type.empty() && !IsJsonContentType(request.content_type)) {
    return Failure(absl::InvalidArgumentError(absl::StrCat(
                       "unsupported content type '", request.content_type, "'; send ", kFhirJson)),
                   415);
  }
  json bundle = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (bundle.is_discarded()) {
    return Failure(InvalidArgumentWithViolations({{"", "the body is not valid JSON"}}), 400);
  }
  if (absl::Status message = CheckMessageBundle(bundle); !message.ok()) {
    return Failure(message, 400);
  }
  auto message = ReadRequestMessage(bundle);
  if (!message.ok()) return Failure(message.status(), 422, &bundle);
  // The response's MessageHeader.response.identifier (1..1, a FHIR id) names the request by it.
  if (!IsFhirId(message->bundle_id)) {
    return Failure(
        InvalidArgumentWithViolations({{"Bundle.id",
                                        "required, a FHIR id ([A-Za-z0-9.-]{1,64}): the response "
                                        "message names the request by it"}}),
        422, &bundle);
  }

  MessageOutcome outcome;
  if (message->kind == MessageKind::kCancellation) {
    auto cancelled = CancelReferral(
        submitter_, *message,
        [&](absl::string_view ods) { return CanSeeReferral(*caller, ods, kRpc); },
        absl::StrCat(auth::RoleName(caller->role), ":", caller->subject));
    if (!cancelled.ok()) {
      return Failure(cancelled.status(), HttpStatusOfProcessing(cancelled.status()), &bundle);
    }
    outcome = *cancelled;
  } else {
    FhirSubmission read = ReadFhirSubmission(request.body);
    if (!read.referral.ok()) return Failure(read.referral.status(), 422, &bundle);
    if (absl::Status allowed = CanSubmit(*caller, *read.referral); !allowed.ok()) {
      return Failure(allowed, 403, &bundle);
    }
    Submission submission;
    submission.referral = *std::move(read.referral);
    submission.channel = v1::SUBMISSION_CHANNEL_FHIR_HTTP;
    submission.sender = std::move(read.sender);
    submission.deadline = absl::Now() + answer_within_;
    if (auto it = request.headers.find("traceparent"); it != request.headers.end()) {
      submission.traceparent = it->second;
    }
    auto result = SubmitAndWait(submitter_, std::move(submission), answer_within_);
    if (!result.ok()) {
      return Failure(result.status(), HttpStatusOfProcessing(result.status()), &bundle);
    }
    outcome.referral_id = result->referral_id;
    outcome.duplicate = result->duplicate;
    outcome.urgency = result->priority.urgency;
  }
  Response response =
      Answer(200, ResponseMessage(*message, outcome, events::NewEventId(), absl::Now()));
  // BaRS: the correlation headers come back as sent.
  for (const char* name : {"x-correlation-id", "x-request-id"}) {
    if (auto it = request.headers.find(name); it != request.headers.end()) {
      response.headers.emplace_back(name, it->second);
    }
  }
  return response;
}

}  // namespace signpost::intake

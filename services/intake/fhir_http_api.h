#pragma once

#include <string>

#include "absl/time/time.h"
#include "common/auth/call_authenticator.h"
#include "common/metrics/http_endpoint.h"
#include "services/intake/submitter.h"

namespace signpost::intake {

// The route of FHIR messaging on intake's HTTPS listener (an ECMAScript pattern: `$` escaped).
inline constexpr char kProcessMessageRoute[] = "/fhir/\\$process-message";

// POST /fhir/$process-message: a BaRS-shaped referral message (application/fhir+json or
// application/json) taken as SubmitReferral takes a referral (the same bearer tokens, roles,
// Submitter and idempotency), or its cancellation taken as WithdrawReferral. Answers 200 with the
// response message, or an OperationOutcome naming each offending element: 400 not a FHIR message,
// 401 (WWW-Authenticate: Bearer), 403, 404, 409, 415, 422 invalid, 429 and 503 (Retry-After).
// The handler runs on the listener's thread pool and waits for the Submitter at most
// `answer_within`.
// What intake's FHIR routes answer while the listener is busy (HttpEndpoint::SetBusyAnswer):
// 503, Retry-After, an OperationOutcome saying to send again.
metrics::HttpEndpoint::Response FhirBusyAnswer(const metrics::HttpEndpoint::Request& request);

class FhirMessageApi {
 public:
  FhirMessageApi(Submitter& submitter, const auth::CallAuthenticator& auth,
                 absl::Duration answer_within = absl::Seconds(30))
      : submitter_(submitter), auth_(auth), answer_within_(answer_within) {}

  metrics::HttpEndpoint::Response ProcessMessage(const metrics::HttpEndpoint::Request& request);
  metrics::HttpEndpoint::Handler Handler() {
    return
        [this](const metrics::HttpEndpoint::Request& request) { return ProcessMessage(request); };
  }

 private:
  Submitter& submitter_;
  const auth::CallAuthenticator& auth_;
  absl::Duration answer_within_;
};

}  // namespace signpost::intake

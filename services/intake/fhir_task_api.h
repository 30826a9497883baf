#pragma once

#include <string>

#include "common/auth/call_authenticator.h"
#include "common/metrics/http_endpoint.h"
#include "common/service/service_host.h"
#include "services/intake/submitter.h"

namespace signpost::intake {

// Referral status as FHIR R4 Tasks (fhir_task.h), on intake's HTTP(S) listener, scoped as
// GetReferral is (referral_access.h): a referrer sees its own organisations' referrals only.
//   GET /fhir/Task/<referral id>                      the Task; 404 unknown, 410 no longer held
//   GET /fhir/Task?focus=ServiceRequest/<referral id> a searchset of 0 or 1 Task
//   GET /fhir/Task?identifier=<system>|<value>        by the sender's ServiceRequest.identifier:
//       system urn:signpost:source-system:<MessageHeader.source.name> (or that name alone)
// 401 (WWW-Authenticate: Bearer) without a valid token, 403 for a referral of another
// organisation (saying neither whose it is nor what it holds), 400 for a search parameter it does
// not support; every error body an OperationOutcome, every body application/fhir+json.
class FhirTaskApi {
 public:
  // `base_scheme`: "https", or "http" where the listener is insecure (development): the scheme of
  // the URLs a searchset names.
  FhirTaskApi(Submitter& submitter, const auth::CallAuthenticator& authenticator,
              std::string base_scheme);

  metrics::HttpEndpoint::Response Read(const metrics::HttpEndpoint::Request& request);
  metrics::HttpEndpoint::Response Search(const metrics::HttpEndpoint::Request& request);

 private:
  Submitter& submitter_;
  const auth::CallAuthenticator& authenticator_;
  std::string base_scheme_;
};

// Registers the routes above on `host`'s listener.
void AddFhirTaskRoutes(ServiceHost& host, Submitter& submitter,
                       const auth::CallAuthenticator& authenticator, bool insecure_listener);

}  // namespace signpost::intake

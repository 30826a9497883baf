#include "services/intake/fhir_task_api.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/events/event_envelope.h"
#include "common/fhir/operation_outcome.h"
#include "services/intake/fhir_referral.h"
#include "services/intake/fhir_task.h"
#include "services/intake/referral_access.h"

namespace signpost::intake {
namespace {

using metrics::HttpEndpoint;
using nlohmann::json;

constexpr absl::string_view kReadRpc = "GET /fhir/Task/{id}";
constexpr absl::string_view kSearchRpc = "GET /fhir/Task";

HttpEndpoint::Response Fhir(int status, const json& body) {
  HttpEndpoint::Response response;
  response.status = status;
  response.content_type = std::string(kFhirJsonContentType);
  response.body = body.dump();
  return response;
}

// An error as FHIR: its OperationOutcome, with `http_status` (by default the status's own).
HttpEndpoint::Response Failure(const absl::Status& status, std::optional<int> http_status = {}) {
  const int code = http_status.value_or(fhir::HttpStatusOf(status));
  HttpEndpoint::Response response = Fhir(code, fhir::OperationOutcomeOf(status, code));
  if (code == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

// The OperationOutcome of a referral whose view is no longer held: its content deleted
// ("deleted"), with no NHS HTTP error code (that code system has none for 410 Gone, and a server
// error it is not).
json GoneOutcome(const absl::Status& status) {
  json outcome = fhir::OperationOutcomeOf(status, 410);
  for (auto& issue : outcome["issue"]) {
    issue["code"] = "deleted";
    issue["details"] = {{"text", "410: the referral's status is no longer held"}};
  }
  return outcome;
}

// GetStatus's failure as FHIR: a view no longer held is gone (410), not unprocessable.
HttpEndpoint::Response StatusFailure(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kFailedPrecondition) return Fhir(410, GoneOutcome(status));
  return Failure(status);
}

// FHIR id: [A-Za-z0-9\-\.]{1,64}.
bool IsFhirId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return true;
}

absl::Status BadParameter(absl::string_view parameter, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(parameter, ": ", why));
}

}  // namespace

FhirTaskApi::FhirTaskApi(Submitter& submitter, const auth::CallAuthenticator& authenticator,
                         std::string base_scheme)
    : submitter_(submitter), authenticator_(authenticator), base_scheme_(std::move(base_scheme)) {}

HttpEndpoint::Response FhirTaskApi::Read(const HttpEndpoint::Request& request) {
  auto caller = authenticator_.AuthenticateHeader(request.authorization);
  if (!caller.ok()) return Failure(caller.status());
  if (absl::Status s = CanAskAboutReferrals(*caller, kReadRpc); !s.ok()) return Failure(s);
  const std::string id = request.path_matches.size() > 1 ? request.path_matches[1] : "";
  v1::GetReferralRequest get;
  get.set_referral_id(id);
  auto view = submitter_.GetStatus(
      get, [&](absl::string_view ods) { return CanSeeReferral(*caller, ods, kReadRpc); });
  if (!view.ok()) return StatusFailure(view.status());
  return Fhir(200, TaskFromStatus(*view));
}

HttpEndpoint::Response FhirTaskApi::Search(const HttpEndpoint::Request& request) {
  auto caller = authenticator_.AuthenticateHeader(request.authorization);
  if (!caller.ok()) return Failure(caller.status());
  if (absl::Status s = CanAskAboutReferrals(*caller, kSearchRpc); !s.ok()) return Failure(s);

  // What the search names: a referral id (focus) and/or the sender's identifier of it.
  std::optional<std::string> focus_id;
  std::optional<v1::SourceReference> source;
  bool matches_nothing = false;
  std::vector<std::string> asked;
  for (const auto& [name, value] : request.params) {
    asked.push_back(absl::StrCat(name, "=", value));
    if (name == "focus") {
      absl::string_view ref = value;
      // A reference search: "ServiceRequest/<id>", or the id alone; another type is no referral.
      if (absl::StrContains(ref, '/') && !absl::ConsumePrefix(&ref, "ServiceRequest/")) {
        matches_nothing = true;
        continue;
      }
      if (!IsFhirId(ref)) {
        return Failure(
            BadParameter("focus", "not a referral id: give ServiceRequest/<referral id>"));
      }
      focus_id = std::string(ref);
    } else if (name == "_format") {
      // What some FHIR clients add to every request: JSON is all this API speaks.
      if (value != "json" && value != "application/json" && value != kFhirJsonContentType) {
        return Failure(BadParameter("_format", "only JSON (application/fhir+json) is served"));
      }
    } else if (name == "identifier") {
      const size_t bar = value.find('|');
      if (bar == std::string::npos || bar == 0 || bar + 1 == value.size()) {
        return Failure(BadParameter(
            "identifier",
            "give system|value: the sending system (urn:signpost:source-system:<MessageHeader."
            "source.name>, or the name alone) and the value of its ServiceRequest.identifier"));
      }
      v1::SourceReference reference;
      reference.set_source_system(SourceSystemOf(value.substr(0, bar)));
      reference.set_source_referral_id(value.substr(bar + 1));
      source = std::move(reference);
    } else {
      return Failure(BadParameter(
          name, "search parameter not supported here: search Task by focus or identifier"));
    }
  }
  if (!focus_id && !source && !matches_nothing) {
    return Failure(BadParameter(
        "focus",
        "a Task search needs focus=ServiceRequest/<referral id> or identifier=system|value"));
  }
  const std::string host = request.headers.count("host") ? request.headers.at("host") : "localhost";
  const std::string base = absl::StrCat(base_scheme_, "://", host, "/fhir");
  const std::string search = absl::StrCat("Task?", absl::StrJoin(asked, "&"));
  if (matches_nothing) return Fhir(200, TaskSearchset({}, base, search));

  auto may_see = [&](absl::string_view ods) { return CanSeeReferral(*caller, ods, kSearchRpc); };
  v1::GetReferralRequest get;
  if (source) {
    *get.mutable_source() = *source;
  } else {
    get.set_referral_id(*focus_id);
  }
  auto view = submitter_.GetStatus(get, may_see);
  if (!view.ok()) {
    switch (view.status().code()) {
      case absl::StatusCode::kNotFound:
        return Fhir(200, TaskSearchset({}, base, search));
      case absl::StatusCode::kFailedPrecondition: {
        // No longer held: nothing to list, and the searchset says why.
        json bundle = TaskSearchset({}, base, search);
        json outcome = GoneOutcome(view.status());
        for (auto& issue : outcome["issue"]) issue["severity"] = "information";
        bundle["entry"] =
            json::array({{{"fullUrl", absl::StrCat("urn:uuid:", events::NewEventId())},
                          {"resource", outcome},
                          {"search", {{"mode", "outcome"}}}}});
        return Fhir(200, bundle);
      }
      default:
        return StatusFailure(view.status());
    }
  }
  // Both given: the referral the identifier names must be the one focus names.
  if (focus_id && view->referral_id() != *focus_id) {
    return Fhir(200, TaskSearchset({}, base, search));
  }
  return Fhir(200, TaskSearchset({TaskFromStatus(*view)}, base, search));
}

void AddFhirTaskRoutes(ServiceHost& host, Submitter& submitter,
                       const auth::CallAuthenticator& authenticator, bool insecure_listener) {
  auto& api =
      host.Make<FhirTaskApi>(submitter, authenticator, insecure_listener ? "http" : "https");
  host.AddRoute(HttpEndpoint::Method::kGet, "/fhir/Task/([A-Za-z0-9.-]{1,64})",
                [&api](const HttpEndpoint::Request& r) { return api.Read(r); });
  host.AddRoute(HttpEndpoint::Method::kGet, "/fhir/Task",
                [&api](const HttpEndpoint::Request& r) { return api.Search(r); });
}

}  // namespace signpost::intake

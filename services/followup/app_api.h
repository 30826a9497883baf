#pragma once

#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/call_authenticator.h"
#include "common/metrics/http_endpoint.h"
#include "common/service/service_host.h"
#include "services/followup/case_api.h"
#include "services/followup/task_feed.h"

namespace signpost::followup {

// The link-worker app's HTTP/JSON API (/app/api/*; services/followup/app/API.md is the contract
// the pages rely on): each route authenticates the Authorization header, acts as the queue the
// token gives (ActingFor: a development caller may name one with ?queue=), and runs CaseApi on
// the listener's route thread. Bodies and answers are the v1 messages in JSON with proto field
// names, so a refusal's violation fields are the names of the pages' inputs; a body field the
// JSON message does not have is refused 400. The case comes from the path and the queue from the
// token: a body naming either is refused 400. Errors answer {"code", "message", "violations":
// [{"field", "description"}]} with the HTTP status of the code (fhir::HttpStatusOf; a connection
// refused for want of places RESOURCE_EXHAUSTED is 409).
class AppApi {
 public:
  using Request = metrics::HttpEndpoint::Request;
  using Response = metrics::HttpEndpoint::Response;

  AppApi(CaseApi& api, TaskFeed& feed, const auth::CallAuthenticator& auth,
         std::function<absl::Time()> clock = absl::Now);

  // GET /app/api/me: {subject, role, network, queue, accepted_until (RFC 3339, "" for never)}.
  Response Me(const Request& request) const;
  // GET /app/api/tasks: {"tasks": [Task...]}.
  Response Tasks(const Request& request) const;
  // POST /app/api/task-done: CompleteTaskRequest's task_id, note, request_id → Task.
  Response TaskDone(const Request& request) const;
  // GET /app/api/cases/{id} (path_matches[1]): the case as ViewCase gives it; nothing audited.
  Response ViewCase(const Request& request) const;
  // POST /app/api/cases/{id}/details {purpose}: GetCase, audited as followup-app/GetCase.
  Response Details(const Request& request) const;
  // POST /app/api/cases/{id}/{action} (path_matches[1], [2]): contact, plan, connection,
  // attendance, outcome, close, reassign; the case after it as ViewCase shows it.
  Response Act(const Request& request) const;
  // GET /app/api/tasks/stream: the queue's tasks as server-sent events (AppTaskStream), resuming
  // after the Last-Event-ID header when given (400 for one the feed cannot know).
  std::variant<Response, std::unique_ptr<metrics::HttpEndpoint::Stream>> OpenTaskStream(
      const Request& request) const;
  // Whose stream a request opens (its token's subject), for the per-person bound on streams.
  std::string StreamOwner(const Request& request) const;

  // The JSON answer for a failed call (`status` ≠ OK) with its HTTP status.
  static Response ErrorAnswer(const absl::Status& status, int http_status);
  static Response ErrorAnswer(const absl::Status& status);

 private:
  absl::StatusOr<Acting> Caller(const Request& request, absl::string_view rpc) const;

  CaseApi& api_;
  TaskFeed& feed_;
  const auth::CallAuthenticator& auth_;
  std::function<absl::Time()> clock_;
};

// Serves the app on `host`'s HTTP listener (HTTPS with --tls-cert): the pages at /app/ (/app
// redirects there) with a Content-Security-Policy allowing only their own files, and `app`'s
// routes under /app/api/. Every answer says no-store, nosniff and no-referrer. At most
// `max_streams` task streams at once (3 per person), each ending after `stream_max_duration` (the
// page resumes it); their number is the gauge signpost_followup_app_streams.
void AddApp(ServiceHost& host, const AppApi& app, int max_streams,
            absl::Duration stream_max_duration);

}  // namespace signpost::followup

#include "services/followup/app_api.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>
#include <type_traits>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fhir/operation_outcome.h"
#include "common/status/field_violations.h"
#include "services/followup/app_assets.h"
#include "services/followup/app_json.h"
#include "services/followup/app_task_stream.h"

namespace signpost::followup {
namespace {

using Request = AppApi::Request;
using Response = AppApi::Response;
using Headers = std::vector<std::pair<std::string, std::string>>;

// The pages load only their own files: no inline script or style, nothing from elsewhere, and
// no other site may frame them. Said on every answer, the API's and its errors too: a JSON
// answer or a 404 opened as a page is held to the same policy.
constexpr char kContentSecurityPolicy[] = "default-src 'self'; frame-ancestors 'none'";

// Every answer under /app: never cached (a person's details, a queue that changes), never
// sniffed into another type, no address of ours sent on as a referrer, and the pages' policy.
Headers AnswerHeaders() {
  return {{"Cache-Control", "no-store"},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"Content-Security-Policy", kContentSecurityPolicy}};
}

constexpr char kJson[] = "application/json; charset=utf-8";

Response JsonAnswer(std::string body) {
  return {
      .status = 200, .content_type = kJson, .body = std::move(body), .headers = AnswerHeaders()};
}

template <typename T>
Response AnswerOf(const absl::StatusOr<T>& result) {
  if (!result.ok()) return AppApi::ErrorAnswer(result.status());
  return JsonAnswer(AppJsonOf(*result));
}

// The case an action's answer shows: no more of the person than ViewCase shows.
Response CaseAnswer(absl::StatusOr<v1::Case> kase, int exhausted_status = 0) {
  if (!kase.ok()) {
    if (exhausted_status != 0 && kase.status().code() == absl::StatusCode::kResourceExhausted) {
      return AppApi::ErrorAnswer(kase.status(), exhausted_status);
    }
    return AppApi::ErrorAnswer(kase.status());
  }
  StripToView(*kase);
  return JsonAnswer(AppJsonOf(*kase));
}

// The bearer token of an Authorization header ("Bearer <token>"), empty when there is none.
std::string BearerOf(const std::string& authorization) {
  constexpr absl::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::StartsWithIgnoreCase(authorization, kScheme)) {
    return "";
  }
  return std::string(absl::StripAsciiWhitespace(authorization.substr(kScheme.size())));
}

// The field a protobuf JSON parse error is about, by the forms its messages take: a
// "(measure.ons4.anxiety): ..." or "result: ..." prefix, or "... for type plan" naming a field of
// `message`; else "body" (not JSON, too deep, not an object). Every refusal then names a field
// the pages can show it beside.
std::string FieldOfParseError(absl::string_view why, const google::protobuf::Descriptor& message) {
  auto is_path = [](absl::string_view s) {
    return !s.empty() && absl::c_all_of(s, [](char c) {
      return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '[' || c == ']';
    });
  };
  absl::string_view rest = why;
  if (absl::ConsumePrefix(&rest, "(")) {
    const size_t end = rest.find(')');
    if (end != absl::string_view::npos && is_path(rest.substr(0, end))) {
      return std::string(rest.substr(0, end));
    }
  }
  if (const size_t colon = why.find(": ");
      colon != absl::string_view::npos && is_path(why.substr(0, colon))) {
    return std::string(why.substr(0, colon));
  }
  if (const size_t at = why.rfind("for type "); at != absl::string_view::npos) {
    absl::string_view name = absl::StripAsciiWhitespace(why.substr(at + 9));
    if (message.FindFieldByName(std::string(name)) != nullptr) return std::string(name);
  }
  return "body";
}

// `body` (JSON with proto field names; empty is {}) as a `Message`: INVALID_ARGUMENT for one that
// is not JSON, not that message (a field it does not have, a value of the wrong type), or that
// names the case or the queue, which the path and the token give.
template <typename Message>
absl::StatusOr<Message> BodyAs(const Request& request) {
  Message message;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  std::string body(absl::StripAsciiWhitespace(request.body));
  // A body is JSON and says so: what a form or another page could send as text/plain is not read
  // as a call (the pages always say application/json).
  const absl::string_view type = absl::StripAsciiWhitespace(
      absl::string_view(request.content_type).substr(0, request.content_type.find(';')));
  if (!body.empty() && !absl::EqualsIgnoreCase(type, "application/json")) {
    return InvalidArgumentWithViolations(
        {{"content-type", absl::StrCat("a body is application/json, not '", type, "'")}});
  }
  if (body.empty()) body = "{}";
  auto parsed = google::protobuf::util::JsonStringToMessage(body, &message, options);
  if (!parsed.ok()) {
    const std::string why(parsed.message());
    return InvalidArgumentWithViolations(
        {{FieldOfParseError(why, *Message::descriptor()),
          absl::StrCat("the body is not a ", Message::descriptor()->name(),
                       " in JSON with its proto field names: ", why)}});
  }
  std::vector<FieldViolation> violations;
  const auto* descriptor = Message::descriptor();
  const auto* reflection = Message::GetReflection();
  for (const auto& [field, from] :
       {std::pair<const char*, const char*>{"link_worker_id", "the sign-in"},
        {"referral_id", "the address"}}) {
    const auto* f = descriptor->FindFieldByName(field);
    if (f != nullptr && !reflection->GetString(message, f).empty()) {
      violations.push_back({field, absl::StrCat("is given by ", from, ", not the body")});
    }
  }
  if (!violations.empty()) return InvalidArgumentWithViolations(violations);
  return message;
}

}  // namespace

AppApi::AppApi(CaseApi& api, TaskFeed& feed, const auth::CallAuthenticator& auth,
               std::function<absl::Time()> clock)
    : api_(api), feed_(feed), auth_(auth), clock_(std::move(clock)) {}

Response AppApi::ErrorAnswer(const absl::Status& status, int http_status) {
  nlohmann::json body = {{"code", absl::StatusCodeToString(status.code())},
                         {"message", std::string(status.message())},
                         {"violations", nlohmann::json::array()}};
  for (const FieldViolation& v : ViolationsOf(status)) {
    body["violations"].push_back({{"field", v.field}, {"description", v.description}});
  }
  Response answer{.status = http_status,
                  .content_type = kJson,
                  .body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  .headers = AnswerHeaders()};
  if (http_status == 401) answer.headers.emplace_back("WWW-Authenticate", "Bearer");
  if (http_status == 503) answer.headers.emplace_back("Retry-After", "1");
  return answer;
}

Response AppApi::ErrorAnswer(const absl::Status& status) {
  return ErrorAnswer(status, fhir::HttpStatusOf(status));
}

absl::StatusOr<Acting> AppApi::Caller(const Request& request, absl::string_view rpc) const {
  // The listener joins repeated headers with ", ", which no token has: which of two a proxy in
  // front took is unknowable, so neither is used.
  if (absl::StrContains(request.authorization, ',')) {
    return InvalidArgumentWithViolations(
        {{"authorization", "send one Authorization header, \"Bearer <token>\""}});
  }
  absl::StatusOr<auth::Principal> caller = auth_.AuthenticateHeader(request.authorization);
  if (!caller.ok()) return caller.status();
  auto queue = request.params.find("queue");
  if (caller->role == auth::Role::kDevelopment && queue == request.params.end()) {
    // Said in the app's terms: the pages pass the link's #queue= as ?queue=.
    return InvalidArgumentWithViolations(
        {{"queue",
          "without authentication (--no-auth) the queue to act as is named by ?queue=ID "
          "(the app's link: #queue=ID)"}});
  }
  return ActingFor(*caller, queue == request.params.end() ? "" : queue->second,
                   absl::StrCat("followup-app/", rpc), BearerOf(request.authorization));
}

Response AppApi::Me(const Request& request) const {
  auto acting = Caller(request, "Me");
  if (!acting.ok()) return ErrorAnswer(acting.status());
  const auth::Principal& p = acting->caller;
  nlohmann::json me = {
      {"subject", p.subject},
      {"role", std::string(auth::RoleName(p.role))},
      {"network", p.network},
      {"queue", acting->queue},
      {"accepted_until",
       p.accepted_until == absl::InfiniteFuture()
           ? std::string()
           : absl::FormatTime(absl::RFC3339_sec, p.accepted_until, absl::UTCTimeZone())}};
  return JsonAnswer(me.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response AppApi::Tasks(const Request& request) const {
  auto acting = Caller(request, "ListTasks");
  if (!acting.ok()) return ErrorAnswer(acting.status());
  auto tasks = api_.ListTasks(*acting);
  if (!tasks.ok()) return ErrorAnswer(tasks.status());
  v1::ListTasksResponse answer;
  for (auto& task : *tasks) *answer.add_tasks() = std::move(task);
  return JsonAnswer(AppJsonOf(answer));
}

Response AppApi::TaskDone(const Request& request) const {
  auto acting = Caller(request, "CompleteTask");
  if (!acting.ok()) return ErrorAnswer(acting.status());
  auto body = BodyAs<v1::CompleteTaskRequest>(request);
  if (!body.ok()) return ErrorAnswer(body.status());
  return AnswerOf(api_.CompleteTask(*acting, *std::move(body)));
}

Response AppApi::ViewCase(const Request& request) const {
  auto acting = Caller(request, "ViewCase");
  if (!acting.ok()) return ErrorAnswer(acting.status());
  return CaseAnswer(api_.ViewCase(*acting, request.path_matches.at(1)));
}

Response AppApi::Details(const Request& request) const {
  auto acting = Caller(request, "GetCase");
  if (!acting.ok()) return ErrorAnswer(acting.status());
  auto body = BodyAs<v1::GetCaseRequest>(request);
  if (!body.ok()) return ErrorAnswer(body.status());
  // The app asks each worker why they open a person's details, and the record keeps the answer.
  if (absl::StripAsciiWhitespace(body->purpose()).empty()) {
    return ErrorAnswer(InvalidArgumentWithViolations(
        {{"purpose", "say why you are opening the person's details"}}));
  }
  body->set_referral_id(request.path_matches.at(1));
  // The one answer with the person's details: as GetCase gives them, audited.
  return AnswerOf(api_.GetCase(*acting, *body, kAuditedAsAppGetCase));
}

Response AppApi::Act(const Request& request) const {
  const std::string& referral_id = request.path_matches.at(1);
  const std::string& action = request.path_matches.at(2);
  // The request of that action from the body, for that case, carried out as the caller.
  auto run = [&](auto tag, absl::string_view rpc, auto method,
                 int exhausted_status = 0) -> Response {
    using Message = typename decltype(tag)::type;
    auto acting = Caller(request, rpc);
    if (!acting.ok()) return ErrorAnswer(acting.status());
    auto body = BodyAs<Message>(request);
    if (!body.ok()) return ErrorAnswer(body.status());
    body->set_referral_id(referral_id);
    return CaseAnswer((api_.*method)(*acting, *std::move(body)), exhausted_status);
  };
  if (action == "contact") {
    return run(std::type_identity<v1::RecordContactRequest>{}, "RecordContact",
               &CaseApi::RecordContact);
  }
  if (action == "plan") {
    return run(std::type_identity<v1::AgreePlanRequest>{}, "AgreePlan", &CaseApi::AgreePlan);
  }
  if (action == "connection") {
    // No place left: a conflict with the directory's state, said as 409 (not 429: trying again
    // soon will not help; the next option may).
    return run(std::type_identity<v1::RecordConnectionRequest>{}, "RecordConnection",
               &CaseApi::RecordConnection, 409);
  }
  if (action == "attendance") {
    return run(std::type_identity<v1::RecordAttendanceRequest>{}, "RecordAttendance",
               &CaseApi::RecordAttendance);
  }
  if (action == "outcome") {
    return run(std::type_identity<v1::RecordOutcomeRequest>{}, "RecordOutcome",
               &CaseApi::RecordOutcome);
  }
  if (action == "close") {
    return run(std::type_identity<v1::CloseCaseRequest>{}, "CloseCase", &CaseApi::CloseCase);
  }
  if (action == "reassign") {
    return run(std::type_identity<v1::ReassignCaseRequest>{}, "ReassignCase",
               &CaseApi::ReassignCase);
  }
  return ErrorAnswer(absl::NotFoundError(absl::StrCat("no action '", action, "' on a case")));
}

std::variant<Response, std::unique_ptr<metrics::HttpEndpoint::Stream>> AppApi::OpenTaskStream(
    const Request& request) const {
  auto acting = Caller(request, "SubscribeTasks");
  if (!acting.ok()) return ErrorAnswer(acting.status());
  auto last = request.headers.find("last-event-id");
  const std::string resume_token = last == request.headers.end() ? "" : last->second;
  absl::StatusOr<CaseApi::Start> start = api_.StreamStart(acting->queue, resume_token);
  if (!start.ok()) return ErrorAnswer(start.status());
  return AppTaskStream::Open(feed_, std::move(start->first), acting->queue, start->cursor,
                             acting->caller.accepted_until, clock_);
}

std::string AppApi::StreamOwner(const Request& request) const {
  absl::StatusOr<auth::Principal> caller = auth_.AuthenticateHeader(request.authorization);
  if (!caller.ok()) return "";
  // A development caller is everyone: its streams are told apart by the queue they follow.
  if (caller->role == auth::Role::kDevelopment) {
    auto queue = request.params.find("queue");
    return absl::StrCat("development:", queue == request.params.end() ? "" : queue->second);
  }
  // Subjects are not unique across roles and networks (tools/run's coordinators are all named
  // `coordinator`): one person is one role, network and subject, so that coordinators of two
  // networks neither share a cap nor end each other's streams.
  return absl::StrCat(auth::RoleName(caller->role), "/", caller->network, "/", caller->subject);
}

void AddApp(ServiceHost& host, const AppApi& app, int max_streams,
            absl::Duration stream_max_duration) {
  using metrics::HttpEndpoint;
  for (const AppAsset& asset : AppAssets()) {
    host.AddPage(asset.path, [asset](const HttpEndpoint::Params&) {
      return HttpEndpoint::Page{200, asset.content_type, asset.body, AnswerHeaders()};
    });
  }
  host.AddPage("/app", [](const HttpEndpoint::Params&) {
    Headers headers = AnswerHeaders();
    headers.emplace_back("Location", "/app/");
    return HttpEndpoint::Page{301, "text/plain; charset=utf-8", "the app is at /app/\n", headers};
  });

  auto route = [&host, &app](HttpEndpoint::Method method, std::string pattern,
                             Response (AppApi::*handler)(const Request&) const) {
    host.AddRoute(method, std::move(pattern),
                  [&app, handler](const Request& r) { return (app.*handler)(r); });
  };
  const std::string id = "([A-Za-z0-9._:-]{1,128})";
  route(HttpEndpoint::Method::kGet, "/app/api/me", &AppApi::Me);
  route(HttpEndpoint::Method::kGet, "/app/api/tasks", &AppApi::Tasks);
  route(HttpEndpoint::Method::kPost, "/app/api/task-done", &AppApi::TaskDone);
  route(HttpEndpoint::Method::kGet, "/app/api/cases/" + id, &AppApi::ViewCase);
  route(HttpEndpoint::Method::kPost, "/app/api/cases/" + id + "/details", &AppApi::Details);
  route(HttpEndpoint::Method::kPost,
        "/app/api/cases/" + id + "/(contact|plan|connection|attendance|outcome|close|reassign)",
        &AppApi::Act);
  // Anything else under the app (a call, a page it does not have): a JSON 404 the pages can
  // read, with every answer's headers (httplib's own 404 has none).
  for (auto method : {HttpEndpoint::Method::kGet, HttpEndpoint::Method::kPost}) {
    host.AddRoute(method, "/app/.*", [](const Request& r) {
      return AppApi::ErrorAnswer(absl::NotFoundError(absl::StrCat(
          absl::StartsWith(r.path, "/app/api/") ? "no such call: " : "no such page: ", r.path)));
    });
  }
  host.SetRouteBusyAnswer([](const Request&) {
    return AppApi::ErrorAnswer(absl::UnavailableError("busy: too many calls at once; try again"));
  });

  host.AddStream(
      "/app/api/tasks/stream", [&app](const Request& r) { return app.OpenTaskStream(r); },
      [&app](const Request& r) { return app.StreamOwner(r); },
      {{"X-Content-Type-Options", "nosniff"},
       {"Referrer-Policy", "no-referrer"},
       {"Content-Security-Policy", kContentSecurityPolicy}});
  HttpEndpoint::StreamBounds bounds;
  bounds.max_streams = max_streams;
  bounds.max_duration = stream_max_duration;
  bounds.open_streams = &host.registry().GetGauge(
      "signpost_followup_app_streams", "Task streams of the link-worker app open on this instance");
  host.SetStreamBounds(bounds);
}

}  // namespace signpost::followup

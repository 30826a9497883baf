#include "common/metrics/http_endpoint.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/config/address.h"

namespace signpost::metrics {

HttpEndpoint::HttpEndpoint(const Registry& registry, ReadinessCheck readiness)
    : registry_(registry), readiness_(std::move(readiness)) {}

HttpEndpoint::~HttpEndpoint() { Stop(); }

void HttpEndpoint::AddPage(std::string path, std::function<Page(const Params&)> page, Guard allow) {
  pages_.push_back({std::move(path), std::move(page), std::move(allow)});
}

void HttpEndpoint::AddRoute(Method method, std::string pattern, Handler handler) {
  routes_.push_back({method, std::move(pattern), std::move(handler)});
}

void HttpEndpoint::AddStream(std::string pattern, StreamOpen open, StreamOwner owner,
                             std::vector<std::pair<std::string, std::string>> headers) {
  stream_routes_.push_back(
      {std::move(pattern), std::move(open), std::move(owner), std::move(headers)});
}

int HttpEndpoint::open_streams() const {
  absl::MutexLock lock(&streams_mu_);
  return static_cast<int>(open_streams_.size());
}

namespace {

HttpEndpoint::Request RequestFrom(const httplib::Request& req) {
  HttpEndpoint::Request out;
  out.method = req.method;
  out.path = req.path;
  for (size_t i = 0; i < req.matches.size(); ++i) out.path_matches.push_back(req.matches[i].str());
  for (const auto& [key, value] : req.params) out.params.emplace(key, value);
  for (const auto& [name, value] : req.headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace(std::move(lower), value);
  }
  // Two Authorization headers: joined as HTTP joins a repeated field, which no bearer token
  // matches, rather than the first taken (a proxy in front may have taken the other).
  const size_t authorizations = req.get_header_value_count("Authorization");
  for (size_t i = 0; i < authorizations; ++i) {
    if (i > 0) out.authorization += ", ";
    out.authorization += req.get_header_value("Authorization", i);
  }
  out.content_type = req.get_header_value("Content-Type");
  out.body = req.body;
  return out;
}

// A stream asked for beyond the bound.
HttpEndpoint::Response StreamsBusy() {
  return {.status = 503,
          .content_type = "application/json",
          .body = R"({"code":"UNAVAILABLE","message":"too many live streams open; )"
                  R"(try again shortly","violations":[]})",
          .headers = {{"Retry-After", "5"}}};
}

void Answer(const HttpEndpoint::Response& r, httplib::Response& res) {
  res.status = r.status;
  for (const auto& [name, value] : r.headers) res.set_header(name, value);
  res.set_content(r.body, r.content_type);
}

// Hands a stream's writes to httplib's chunked writer, remembering a failure: the client is gone
// (or stopped reading for the write timeout), and the connection is dropped. Once the stream is
// over (Stop, its maximum duration, replaced) it refuses to write more: a Next with much to write
// to a client that reads slowly would otherwise hold its thread, and Stop(), until all of it had
// reached the client. What it did not write the client gets again when it resumes.
class SinkWriter final : public HttpEndpoint::StreamWriter {
 public:
  SinkWriter(httplib::DataSink& sink, std::function<bool()> over)
      : sink_(sink), over_(std::move(over)) {}
  bool Write(std::string_view text) override {
    if (failed_ || over_()) return false;
    // An empty chunk would end the chunked body (and httplib's loop) early.
    if (text.empty()) return true;
    if (!sink_.write(text.data(), text.size())) failed_ = true;
    wrote_ = true;
    return !failed_;
  }
  bool failed() const { return failed_; }
  bool wrote() const { return wrote_; }

 private:
  httplib::DataSink& sink_;
  std::function<bool()> over_;
  bool failed_ = false;
  bool wrote_ = false;
};

}  // namespace

HttpEndpoint::Response HttpEndpoint::Serve(const Handler& handler, const Request& request) {
  // Counted for the whole call, however it ends (a handler that throws is answered 500).
  struct RouteCall {
    std::atomic<int>& calls;
    const int before = calls.fetch_add(1);
    ~RouteCall() { calls.fetch_sub(1); }
  } call{route_calls_};
  if (call.before < kMaxRouteCalls) return handler(request);
  if (busy_) return busy_(request);
  return {.status = 503,
          .content_type = "text/plain",
          .body = "busy: too many requests at once; try again\n",
          .headers = {{"Retry-After", "1"}}};
}

bool HttpEndpoint::StreamRoomLeft() const {
  absl::MutexLock lock(&streams_mu_);
  return static_cast<int>(open_streams_.size()) < stream_bounds_.max_streams;
}

std::shared_ptr<HttpEndpoint::StreamSlot> HttpEndpoint::TakeStreamSlot(const std::string& owner) {
  absl::MutexLock lock(&streams_mu_);
  // A replaced stream keeps its slot until it has ended: until then it holds its thread.
  if (static_cast<int>(open_streams_.size()) >= stream_bounds_.max_streams) return nullptr;
  int owned = 0;
  for (const auto& slot : open_streams_) {
    owned += slot->owner == owner && !slot->replaced.load() ? 1 : 0;
  }
  if (owned >= std::max(1, stream_bounds_.max_per_owner)) {
    auto oldest = std::find_if(
        open_streams_.begin(), open_streams_.end(),
        [&owner](const auto& slot) { return slot->owner == owner && !slot->replaced.load(); });
    (*oldest)->replaced.store(true);
  }
  auto slot = std::make_shared<StreamSlot>();
  slot->owner = owner;
  open_streams_.push_back(slot);
  if (stream_bounds_.open_streams) stream_bounds_.open_streams->Set(open_streams_.size());
  return slot;
}

void HttpEndpoint::ReleaseStreamSlot(const std::shared_ptr<StreamSlot>& slot) {
  absl::MutexLock lock(&streams_mu_);
  open_streams_.remove(slot);
  if (stream_bounds_.open_streams) stream_bounds_.open_streams->Set(open_streams_.size());
}

void HttpEndpoint::ServeStream(const httplib::Request& req, httplib::Response& res,
                               const StreamOpen& open, const StreamOwner& owner,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  Request request = RequestFrom(req);
  // The refusal beyond the bound with the route's headers, as its other answers have them.
  auto busy = [&headers] {
    Response answer = StreamsBusy();
    answer.headers.insert(answer.headers.end(), headers.begin(), headers.end());
    answer.headers.emplace_back("Cache-Control", "no-store");
    return answer;
  };
  // Refused before the stream is opened, which may cost its opener work (a snapshot to read).
  if (!StreamRoomLeft()) return Answer(busy(), res);
  std::unique_ptr<Stream> stream;
  Response answer = Serve(
      [&](const Request& r) -> Response {
        auto opened = open(r);
        if (auto* plain = std::get_if<Response>(&opened)) return std::move(*plain);
        stream = std::move(std::get<std::unique_ptr<Stream>>(opened));
        return {};
      },
      request);
  if (!stream) return Answer(answer, res);
  std::shared_ptr<StreamSlot> slot = TakeStreamSlot(owner ? owner(request) : std::string());
  if (!slot) return Answer(busy(), res);
  res.status = 200;
  for (const auto& [name, value] : headers) res.set_header(name, value);
  res.set_header("Cache-Control", "no-store");
  res.set_header("Connection", "close");
  // Served on this connection's listener thread after the handler returns: the provider is called
  // again and again until it ends the body, and the releaser runs when the answer is dropped,
  // whether or not the provider ever ran (a HEAD request, a client gone before the headers).
  struct State {
    std::unique_ptr<Stream> stream;
    absl::Time deadline;
    absl::Time last_write;
  };
  auto state = std::make_shared<State>();
  state->stream = std::move(stream);
  state->last_write = absl::Now();
  state->deadline = state->last_write + stream_bounds_.max_duration;
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, state, slot](size_t, httplib::DataSink& sink) {
        auto over = [&] {
          return stopping_.load() || slot->replaced.load() || absl::Now() >= state->deadline;
        };
        // Ending the body cleanly, then refusing to go on: httplib drops the connection (as its
        // Connection: close said) rather than hold the thread waiting for another request.
        auto end = [&sink] {
          sink.done();
          return false;
        };
        if (over()) return end();
        absl::Time now = absl::Now();
        absl::Duration wait = std::min({absl::Seconds(1), state->deadline - now,
                                        state->last_write + stream_bounds_.ping_interval - now});
        SinkWriter writer(sink, over);
        bool more = state->stream->Next(writer, std::max(wait, absl::ZeroDuration()));
        if (writer.failed()) return false;
        if (writer.wrote()) state->last_write = absl::Now();
        if (!more || over()) return end();
        if (absl::Now() - state->last_write >= stream_bounds_.ping_interval) {
          if (!writer.Write(": ping\n\n")) return false;
          state->last_write = absl::Now();
        }
        return true;
      },
      [this, slot](bool) { ReleaseStreamSlot(slot); });
}

absl::StatusOr<int> HttpEndpoint::Start(const std::string& listen, const TlsConfig& tls,
                                        size_t max_body_bytes) {
  auto address = ParseHostPort(listen, /*allow_port_zero=*/true);
  if (!address.ok()) return address.status();
  if (tls.insecure || tls.cert.empty()) {
    server_ = std::make_unique<httplib::Server>();
  } else {
    // Callers' certificates are not asked for here: load balancers' and Kubernetes' probes and
    // Prometheus connect without one.
    auto server = std::make_unique<httplib::SSLServer>(tls.cert.c_str(), tls.key.c_str());
    if (!server->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat("--tls-cert/--tls-key: ", tls.cert, " and ",
                                                     tls.key, " are not a usable pair"));
    }
    server_ = std::move(server);
  }
  server_->set_payload_max_length(max_body_bytes);
  // The answers httplib makes itself (no route for the path or method, a body beyond the bound, a
  // request it cannot read) have no body: never cached, sniffed or framed, like every other.
  server_->set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (res.body.empty()) {
          for (const auto& [name, value] :
               {std::pair<const char*, const char*>{"Cache-Control", "no-store"},
                {"X-Content-Type-Options", "nosniff"},
                {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"}}) {
            if (!res.has_header(name)) res.set_header(name, value);
          }
        }
        return httplib::Server::HandlerResponse::Unhandled;
      }));
  // httplib's own pool has max(8, cores - 1) threads, every one of which slow route calls could
  // hold; the probes then wait behind them until the calls end. Each open stream holds one more.
  const int threads =
      kListenerThreads + (stream_routes_.empty() ? 0 : std::max(0, stream_bounds_.max_streams));
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry_.RenderPrometheus(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    absl::Status ready = readiness_ ? readiness_() : absl::OkStatus();
    if (ready.ok()) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content(absl::StrCat("not ready: ", ready.message(), "\n"), "text/plain");
    }
  });
  for (const auto& [path, page, allow] : pages_) {
    server_->Get(
        path, [page = page, allow = allow](const httplib::Request& req, httplib::Response& res) {
          if (allow) {
            absl::Status allowed = allow(req.get_header_value("Authorization"));
            if (!allowed.ok()) {
              res.status = allowed.code() == absl::StatusCode::kUnauthenticated ? 401 : 403;
              if (res.status == 401) res.set_header("WWW-Authenticate", "Bearer");
              res.set_content(absl::StrCat(allowed.message(), "\n"), "text/plain");
              return;
            }
          }
          Params params;
          for (const auto& [key, value] : req.params) params.emplace(key, value);
          Page p = page(params);
          res.status = p.status;
          for (const auto& [name, value] : p.headers) res.set_header(name, value);
          res.set_content(p.body, p.content_type);
        });
  }
  // Before the routes: httplib takes the first pattern that matches, and a route's may be broad.
  for (const StreamRoute& route : stream_routes_) {
    server_->Get(route.pattern, [this, route](const httplib::Request& req, httplib::Response& res) {
      ServeStream(req, res, route.open, route.owner, route.headers);
    });
  }
  for (const auto& [method, pattern, handler] : routes_) {
    auto serve = [this, handler = handler](const httplib::Request& req, httplib::Response& res) {
      Answer(Serve(handler, RequestFrom(req)), res);
    };
    if (method == Method::kGet) {
      server_->Get(pattern, serve);
    } else {
      server_->Post(pattern, serve);
    }
  }
  stopping_.store(false);
  int port = address->port;
  if (port == 0) {
    port = server_->bind_to_any_port(address->host);
    if (port < 0) {
      return absl::UnavailableError(absl::StrCat("cannot bind metrics listener on ", listen));
    }
  } else if (!server_->bind_to_port(address->host, port)) {
    return absl::UnavailableError(absl::StrCat("cannot bind metrics listener on ", listen));
  }
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_.store(true);
  });
  // httplib's stop() does nothing until the server runs: a Stop() right after Start() would
  // otherwise leave the thread listening for ever.
  while (!server_->is_running() && !listen_returned_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return port;
}

void HttpEndpoint::Stop() {
  // Before the server's own stop: a stream in Next then ends its body cleanly when Next returns,
  // rather than being cut off by httplib's loop.
  stopping_.store(true);
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace signpost::metrics

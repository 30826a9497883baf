#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/config/common_config.h"
#include "common/metrics/registry.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace signpost::metrics {

// The small HTTP listener of every process: /metrics (Prometheus text), /healthz (the process
// is alive) and /readyz (its dependencies answer, as the readiness check says).
class HttpEndpoint {
 public:
  // Readiness: OK when ready, else the reason (served as 503 with the message).
  using ReadinessCheck = std::function<absl::Status()>;

  HttpEndpoint(const Registry& registry, ReadinessCheck readiness);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Another GET page, e.g. a service's JSON API, given the query parameters; added before Start.
  struct Page {
    int status = 200;
    std::string content_type;
    std::string body;
    // Sent with the page, e.g. Content-Security-Policy.
    std::vector<std::pair<std::string, std::string>> headers;
  };
  using Params = std::map<std::string, std::string>;
  // `allow`, when given, is asked first with the request's Authorization header: a page it
  // refuses is answered 401 (UNAUTHENTICATED) or 403 with its message instead.
  using Guard = std::function<absl::Status(const std::string& authorization)>;
  void AddPage(std::string path, std::function<Page(const Params&)> page, Guard allow = nullptr);

  // A route of a service's own HTTP API (FHIR, Open Referral), which reads the whole request and
  // says the whole answer: the handler authenticates the caller itself, from `authorization`.
  struct Request {
    std::string method;
    std::string path;
    std::vector<std::string> path_matches;  // the pattern's groups, [0] the whole path
    Params params;                          // query parameters (the first of repeated ones)
    std::string authorization;              // the Authorization header(s), ", "-joined
    std::string content_type;
    std::string body;
    // Every header as sent, names lower-cased.
    std::map<std::string, std::string> headers;
  };
  struct Response {
    int status = 200;
    std::string content_type;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  using Handler = std::function<Response(const Request&)>;
  enum class Method { kGet, kPost };
  // `pattern` is an ECMAScript regular expression matched against the whole path (e.g.
  // "/fhir/Task/([A-Za-z0-9.-]+)"). Request bodies beyond `max_body_bytes` (see Start) are
  // refused 413 before the handler runs.
  void AddRoute(Method method, std::string pattern, Handler handler);
  // What a route answers when `kMaxRouteCalls` route handlers are running already (without
  // running its handler), e.g. a FHIR OperationOutcome; by default 503 with Retry-After in text.
  void SetBusyAnswer(Handler busy) { busy_ = std::move(busy); }

  // --- Server-sent event streams (text/event-stream) ------------------------------------------
  // What a stream writes to its client: false when the client is gone (the write failed or
  // timed out), after which nothing more reaches it.
  struct StreamWriter {
    virtual ~StreamWriter() = default;
    virtual bool Write(std::string_view text) = 0;
  };
  // One open stream. Next is called on the connection's own thread again and again: it waits at
  // most `wait` (never more than about a second) for something to send, writes it (whole SSE
  // events: "event: task\ndata: ...\n\n"), and returns false when the stream has nothing
  // more to say. Destroyed on that thread when the stream ends, however it ends.
  struct Stream {
    virtual ~Stream() = default;
    virtual bool Next(StreamWriter& writer, absl::Duration wait) = 0;
  };
  // Runs like a route handler (counted against kMaxRouteCalls, the busy answer beyond): either a
  // plain answer (401, 403, 400 ...) or the stream to serve.
  using StreamOpen = std::function<std::variant<Response, std::unique_ptr<Stream>>(const Request&)>;
  // Whose stream a request opens (e.g. the token's subject), for the per-owner bound.
  using StreamOwner = std::function<std::string(const Request&)>;
  // A GET route answering with a stream: `pattern` as in AddRoute. Its answer has the type
  // exactly "text/event-stream" (no charset: httplib then never compresses it, which would hold
  // the events back in the compressor), Cache-Control: no-store, Connection: close, and
  // `headers`. The connection closes when the stream ends.
  void AddStream(std::string pattern, StreamOpen open, StreamOwner owner,
                 std::vector<std::pair<std::string, std::string>> headers = {});
  struct StreamBounds {
    // Streams open at once. Each holds a listener thread of its own for its whole life, so the
    // listener gets this many threads more than kListenerThreads: streams never starve routes
    // and probes. Beyond it a stream request is answered 503 (JSON, Retry-After: 5) before its
    // stream is opened.
    int max_streams = 32;
    // Streams of one owner at once: one more ends that owner's oldest (a tab left open), which
    // counts against max_streams until it has ended (within about a second, or a write timeout).
    int max_per_owner = 3;
    // A stream ends after this long (cleanly); the client opens the next one, resuming.
    absl::Duration max_duration = absl::Minutes(10);
    // With nothing written for this long, an SSE comment (": ping") is: it keeps proxies from
    // timing the connection out and finds a client that has gone.
    absl::Duration ping_interval = absl::Seconds(15);
    // Set to the number of open streams whenever it changes, when given.
    Gauge* open_streams = nullptr;
  };
  // Before Start.
  void SetStreamBounds(StreamBounds bounds) { stream_bounds_ = bounds; }
  // Streams open now, each holding a thread (an owner's replaced stream counts until it has
  // ended).
  int open_streams() const;

  // The listener's threads, and how many of them route handlers may hold at once: a handler may
  // wait (a submission waits for Kafka's acknowledgement), and the rest stay free for /healthz,
  // /readyz, /metrics and the busy answers, so that slow calls never starve the probes.
  static constexpr int kListenerThreads = 16;
  static constexpr int kMaxRouteCalls = 10;

  // Binds `listen` (host:port, port 0 picks one) and serves on a thread, over TLS with the
  // certificate in `tls` unless it says insecure; returns the port. A request body longer than
  // `max_body_bytes` is refused (413) unread, so no caller can make the process hold more.
  absl::StatusOr<int> Start(const std::string& listen, const TlsConfig& tls = {.insecure = true},
                            size_t max_body_bytes = kDefaultMaxBodyBytes);
  static constexpr size_t kDefaultMaxBodyBytes = 1 << 20;
  // Returns promptly with streams open too: each ends at its next Next (within about a second).
  void Stop();

 private:
  struct StreamSlot {
    std::string owner;
    std::atomic<bool> replaced{false};
  };
  // Whether fewer than max_streams are open.
  bool StreamRoomLeft() const;
  // The slot of a stream about to be served, or null when max_streams are open (replaced ones
  // included); replaces the owner's oldest stream when it has max_per_owner open.
  std::shared_ptr<StreamSlot> TakeStreamSlot(const std::string& owner);
  void ReleaseStreamSlot(const std::shared_ptr<StreamSlot>& slot);
  Response Serve(const Handler& handler, const Request& request);
  void ServeStream(const httplib::Request& req, httplib::Response& res, const StreamOpen& open,
                   const StreamOwner& owner,
                   const std::vector<std::pair<std::string, std::string>>& headers);

  const Registry& registry_;
  ReadinessCheck readiness_;
  struct GuardedPage {
    std::string path;
    std::function<Page(const Params&)> page;
    Guard allow;
  };
  std::vector<GuardedPage> pages_;
  struct Route {
    Method method;
    std::string pattern;
    Handler handler;
  };
  std::vector<Route> routes_;
  Handler busy_;
  std::atomic<int> route_calls_{0};
  struct StreamRoute {
    std::string pattern;
    StreamOpen open;
    StreamOwner owner;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  std::vector<StreamRoute> stream_routes_;
  StreamBounds stream_bounds_;
  mutable absl::Mutex streams_mu_;
  std::list<std::shared_ptr<StreamSlot>> open_streams_
      ABSL_GUARDED_BY(streams_mu_);  // oldest first
  std::atomic<bool> stopping_{false};
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
};

}  // namespace signpost::metrics

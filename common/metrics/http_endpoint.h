#pragma once

#include <vector>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/config/common_config.h"
#include "common/metrics/registry.h"

namespace httplib {
class Server;
}

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
  };
  using Params = std::map<std::string, std::string>;
  // `allow`, when given, is asked first with the request's Authorization header: a page it
  // refuses is answered 401 (UNAUTHENTICATED) or 403 with its message instead.
  using Guard = std::function<absl::Status(const std::string& authorization)>;
  void AddPage(std::string path, std::function<Page(const Params&)> page, Guard allow = nullptr);

  // Binds `listen` (host:port, port 0 picks one) and serves on a thread, over TLS with the
  // certificate in `tls` unless it says insecure; returns the port.
  absl::StatusOr<int> Start(const std::string& listen, const TlsConfig& tls = {.insecure = true});
  void Stop();

 private:
  const Registry& registry_;
  ReadinessCheck readiness_;
  struct GuardedPage {
    std::string path;
    std::function<Page(const Params&)> page;
    Guard allow;
  };
  std::vector<GuardedPage> pages_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
};

}  // namespace signpost::metrics

#include "common/metrics/http_endpoint.h"

#include <httplib.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/config/address.h"

namespace signpost::metrics {

HttpEndpoint::HttpEndpoint(const Registry& registry, ReadinessCheck readiness)
    : registry_(registry), readiness_(std::move(readiness)) {}

HttpEndpoint::~HttpEndpoint() { Stop(); }

void HttpEndpoint::AddPage(std::string path, std::function<Page(const Params&)> page, Guard allow) {
  pages_.push_back({std::move(path), std::move(page), std::move(allow)});
}

absl::StatusOr<int> HttpEndpoint::Start(const std::string& listen, const TlsConfig& tls) {
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
          res.set_content(p.body, p.content_type);
        });
  }
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
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace signpost::metrics

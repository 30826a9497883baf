#include "tools/ctl/oruk_http_fetcher.h"

#include <httplib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"

namespace signpost::ctl {
namespace {

absl::Status FromHttplibError(httplib::Error error, const std::string& base_url,
                              const std::string& ca_file) {
  std::string what = httplib::to_string(error);
  switch (error) {
    case httplib::Error::ConnectionTimeout:
      return absl::DeadlineExceededError(absl::StrCat("no connection to ", base_url, " in time"));
    case httplib::Error::SSLServerVerification:
      return absl::FailedPreconditionError(
          absl::StrCat(base_url, ": the server's certificate is not trusted (",
                       ca_file.empty() ? "system trust store; --tls-ca FILE for another CA"
                                       : "not signed by " + ca_file,
                       ")"));
    case httplib::Error::SSLLoadingCerts:
      return absl::FailedPreconditionError(
          absl::StrCat("cannot load the CA certificates ",
                       ca_file.empty() ? "of the system" : "from " + ca_file));
    default:
      return absl::UnavailableError(absl::StrCat(base_url, ": ", what));
  }
}

}  // namespace

absl::StatusOr<OrukFetcher> MakeHttpFetcher(const HttpFetchOptions& options) {
  absl::string_view rest = options.base_url;
  std::string scheme;
  if (absl::ConsumePrefix(&rest, "https://")) {
    scheme = "https";
  } else if (absl::ConsumePrefix(&rest, "http://")) {
    scheme = "http";
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--url: '", options.base_url, "' is not http://... or https://..."));
  }
  size_t slash = rest.find('/');
  std::string host_port(rest.substr(0, slash));
  std::string prefix(slash == absl::string_view::npos ? "" : rest.substr(slash));
  while (absl::EndsWith(prefix, "/")) prefix.pop_back();
  if (host_port.empty() || absl::StrContains(prefix, "?")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--url: '", options.base_url, "' needs a host and no query"));
  }

  auto client = std::make_shared<httplib::Client>(absl::StrCat(scheme, "://", host_port));
  if (!client->is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat("--url: cannot use '", options.base_url, "'"));
  }
  client->set_connection_timeout(absl::ToChronoSeconds(options.connect_timeout));
  client->set_read_timeout(absl::ToChronoSeconds(options.read_timeout));
  client->set_write_timeout(absl::ToChronoSeconds(options.read_timeout));
  client->set_keep_alive(true);
  if (scheme == "https") {
    client->enable_server_certificate_verification(true);
    if (!options.ca_file.empty()) client->set_ca_cert_path(options.ca_file);
  }
  auto lock = std::make_shared<std::mutex>();  // one request at a time on the connection
  return OrukFetcher([client, lock, prefix,
                      options](const std::string& target) -> absl::StatusOr<HttpReply> {
    std::lock_guard<std::mutex> hold(*lock);
    HttpReply reply;
    bool too_large = false;
    const size_t max = options.max_body_bytes;
    // The read timeout bounds each wait, not the reply: a watchdog stops the request once
    // the whole reply has taken reply_timeout.
    std::atomic<bool> timed_out = false;
    absl::Notification done;
    std::thread watchdog([&] {
      if (done.WaitForNotificationWithTimeout(options.reply_timeout)) return;
      timed_out = true;
      client->stop();
    });
    httplib::Result result = client->Get(
        prefix + target, httplib::Headers{{"Accept", "application/json"}},
        [&](const httplib::Response& response) {
          // Refused before reading when the server says it is too large.
          uint64_t declared = 0;
          if (absl::SimpleAtoi(response.get_header_value("Content-Length"), &declared) &&
              declared > max) {
            too_large = true;
            return false;
          }
          return true;
        },
        [&](const char* data, size_t length) {
          if (reply.body.size() + length > max) {
            too_large = true;
            return false;
          }
          reply.body.append(data, length);
          return true;
        });
    done.Notify();
    watchdog.join();
    if (timed_out) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no whole reply in ", absl::FormatDuration(options.reply_timeout), " (--reply-timeout)"));
    }
    if (too_large) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the reply is over ", max >> 20, " MiB (--max-reply-mib)"));
    }
    if (!result) return FromHttplibError(result.error(), options.base_url, options.ca_file);
    reply.status = result->status;
    return reply;
  });
}

}  // namespace signpost::ctl

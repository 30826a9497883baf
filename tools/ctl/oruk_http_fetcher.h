// The HTTP(S) side of `signpostctl directory import --url`: GETs relative to an ORUK API's base
// URL with cpp-httplib, bounded in time and size. The paging itself is oruk_remote_reader.h.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/ctl/oruk_remote_reader.h"

namespace signpost::ctl {

struct HttpFetchOptions {
  std::string base_url;  // http://host[:port][/path] or https://...
  // HTTPS: the CA file that signed the server's certificate; empty: the system's trust store.
  // The certificate and the host name are always checked.
  std::string ca_file;
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration read_timeout = absl::Seconds(30);  // between bytes of one reply
  // The whole of one reply, headers and body: a server dripping a byte just inside read_timeout
  // is cut off here rather than holding the import for ever.
  absl::Duration reply_timeout = absl::Minutes(2);
  size_t max_body_bytes = 16 << 20;  // a larger reply is refused unread
};

// A fetcher for ReadOrukServices, or INVALID_ARGUMENT when the base URL is not http(s)://host...
// Replies: any HTTP status. Errors: UNAVAILABLE (refused, reset, TLS handshake), DEADLINE_EXCEEDED
// (connect timeout, no whole reply within reply_timeout), RESOURCE_EXHAUSTED (over max_body_bytes),
// FAILED_PRECONDITION (the certificate is not trusted, the CA file unreadable).
absl::StatusOr<OrukFetcher> MakeHttpFetcher(const HttpFetchOptions& options);

}  // namespace signpost::ctl

#pragma once

#include <atomic>
#include <functional>

#include "common/metrics/http_endpoint.h"
#include "common/redis/redis_client.h"
#include "common/service/service_host.h"
#include "services/matching/directory_index.h"
#include "services/matching/directory_listing.h"

namespace signpost::matching {

// The Open Referral UK 3.0 API (the UK profile of HSDS 3.0) over the live directory matching
// holds, on the service's HTTP listener (--metrics-listen, TLS like the rest) under kOrukBase:
//   GET /oruk              the API's details (version HSDS-UK-3.0, profile, openapi_url)
//   GET /oruk/services     a page of services: page, per_page (1..200, 50), modified_after,
//                          taxonomy_term_id, search; in the order of their Signpost ids
//   GET /oruk/services/ID  one service fully nested, with its places left (capacities)
// Public, as the profile requires: no token; every answer, errors too, carries
// Access-Control-Allow-Origin: *. The JSON is shaped in oruk_service_json.cc.
inline constexpr char kOrukBase[] = "/oruk";

class OrukApi {
 public:
  // `ready`: the directory cache is loaded (until then every answer is 503, never a partial
  // directory).
  OrukApi(DirectoryIndex& directory, DirectoryListing& listing, std::function<bool()> ready)
      : directory_(directory), listing_(listing), ready_(std::move(ready)) {}

  metrics::HttpEndpoint::Response Root(const metrics::HttpEndpoint::Request& request) const;
  metrics::HttpEndpoint::Response Services(const metrics::HttpEndpoint::Request& request) const;
  metrics::HttpEndpoint::Response Service(const metrics::HttpEndpoint::Request& request) const;

  // At most this many /services requests are answered at once; more are refused at once, 503
  // with Retry-After. Each walks the directory's keys in Redis (a third of a second at 100,000
  // services), and the listener has few threads (httplib's pool, 8 here), shared with /readyz,
  // /healthz and /metrics: a handful of public clients must not make the pod look unready.
  static constexpr int kMaxConcurrentReads = 2;

 private:
  DirectoryIndex& directory_;
  DirectoryListing& listing_;
  std::function<bool()> ready_;
  mutable std::atomic<int> reads_in_flight_{0};
};

// Makes the API over `redis` (the directory cache's) and adds its routes to `host`.
void AddOrukApi(ServiceHost& host, DirectoryIndex& directory, redis::RedisClient& redis,
                std::function<bool()> ready);

}  // namespace signpost::matching

// signpost-bench-matching: matching latency per referral against a large directory in a real
// redis-server, beside the raw GEOSEARCH round trip for the same queries, measured in the same
// run (interleaved, referral by referral). Run by tools/bench matching.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/config/address.h"
#include "common/redis/redis_pool.h"
#include "services/matching/directory_cache.h"
#include "services/matching/match_reading.h"
#include "services/matching/postcode_lookup.h"
#include "services/matching/referral_matcher.h"
#include "tools/region/synthetic_region.h"

namespace {

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace signpost;
  std::string redis_address, out_json;
  int resources = 100000, referrals = 2000, warmup = -1;
  CLI::App app("signpost-bench-matching");
  app.add_option("--redis", redis_address)->required();
  app.add_option("--resources", resources)->capture_default_str();
  app.add_option("--referrals", referrals)->capture_default_str();
  app.add_option("--warmup", warmup, "unmeasured referrals first (default: as many as measured)");
  app.add_option("--json", out_json);
  CLI11_PARSE(app, argc, argv);

  redis::PoolOptions pool_options;
  pool_options.address = *ParseRedisAddress(redis_address);
  pool_options.size = 2;
  auto pool = redis::RedisPool::Create(pool_options);
  matching::DirectoryCache cache(**pool);
  matching::PostcodeLookup postcodes(**pool);

  auto region = region::GenerateRegion(20261123, resources);
  absl::Time load_start = absl::Now();
  for (const auto& r : region.resources) {
    if (auto s = cache.PutResource(r); !s.ok()) {
      spdlog::critical("loading: {}", s.ToString());
      return 1;
    }
  }
  for (const auto& n : region.networks) (void)cache.PutNetwork(n);
  for (const auto& w : region.link_workers) (void)cache.PutLinkWorker(w);
  std::string csv = "/tmp/signpost-bench-postcodes.csv";
  {
    std::ofstream f(csv);
    f << "postcode,latitude,longitude,lsoa,imd_decile\n";
    for (const auto& p : region.postcodes) {
      f << absl::StrFormat("%s,%.6f,%.6f,%s,%d\n", p.postcode, p.latitude, p.longitude, p.lsoa,
                           p.imd_decile);
    }
  }
  if (auto loaded = postcodes.LoadCsv(csv); !loaded.ok()) {
    spdlog::critical("postcodes: {}", loaded.status().ToString());
    return 1;
  }
  fprintf(stderr, "loaded %d resources into Redis in %.1f s\n", resources,
          absl::ToDoubleSeconds(absl::Now() - load_start));

  std::mt19937_64 rng(42);
  std::vector<const region::PostcodeRow*> full_postcodes;
  for (const auto& p : region.postcodes) {
    if (p.postcode.find(' ') != std::string::npos) full_postcodes.push_back(&p);
  }
  matching::MatchPolicy policy;
  std::vector<double> raw_ms, match_ms;
  // Where a referral's time goes: the read (locate, candidates and the team with its caseloads
  // in one round trip, and the assignment decided on them), then filters, ranking and the event,
  // then recording the match with its assignment (a second round trip).
  const char* kStages[] = {"read", "filter+rank", "record"};
  constexpr int kStageCount = 3;
  std::vector<double> stage_ms[kStageCount];
  int options = 0, unmet = 0;
  // The first `warmup` referrals are not measured: a running service has its connections, Lua
  // scripts and in-process records warm, and so has Redis.
  if (warmup < 0) warmup = referrals;
  for (int i = 0; i < warmup + referrals; ++i) {
    const bool measured = i >= warmup;
    const auto& pc = *full_postcodes[rng() % full_postcodes.size()];
    v1::ReferralReceived received;
    auto* referral = received.mutable_referral();
    referral->mutable_referrer()->set_ods_code(
        region.practice_ods_codes[rng() % region.practice_ods_codes.size()]);
    auto* person = referral->mutable_profile();
    person->set_home_postcode(pc.postcode);
    person->set_postcode_district(pc.postcode.substr(0, pc.postcode.find(' ')));
    person->set_age_years(18 + static_cast<int>(rng() % 70));
    person->mutable_access_needs()->set_step_free(rng() % 5 == 0);
    person->set_digitally_excluded(rng() % 4 == 0);
    person->set_transport_barrier(rng() % 6 == 0);
    int needs = 1 + static_cast<int>(rng() % 3);
    for (int n = 0; n < needs; ++n) {
      referral->add_needs()->set_category(static_cast<v1::NeedCategory>(1 + rng() % 18));
    }

    // Baseline: the raw GEOSEARCH queries for this referral, in one round trip.
    std::vector<redis::Command> raw;
    for (const auto& need : referral->needs()) {
      raw.push_back({"GEOSEARCH", absl::StrCat("signpost:dir:geo:", need.category()), "FROMLONLAT",
                     absl::StrCat(pc.longitude), absl::StrCat(pc.latitude), "BYRADIUS",
                     absl::StrCat(policy.RadiusKm(need.category(), person->transport_barrier())),
                     "km", "ASC", "COUNT", "200"});
    }
    absl::Time t0 = absl::Now();
    if (!(*pool)->Pipeline(raw).ok()) return 1;
    if (measured) raw_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));

    // Matching: locate, candidates, team and assignment, then filters and ranking (no Kafka).
    absl::Time t1 = absl::Now();
    auto read = matching::ReadForMatching(cache, absl::StrCat("bench-", i), *referral, policy);
    absl::Time t2 = absl::Now();
    if (!read.ok()) return 1;
    auto outcome = matching::MatchReferral(received, read->location, read->Candidates(),
                                           read->assignment, policy, absl::Now());
    absl::Time t3 = absl::Now();
    matching::DirectoryCache::MatchToRecord record = read->to_record;
    v1::Event matched;
    *matched.mutable_referral_matched() = outcome.matched;
    record.events.push_back(matched.SerializeAsString());
    auto recorded = cache.RecordMatches({record});
    if (!recorded.front().ok()) return 1;
    if (!measured) continue;
    absl::Time t4 = absl::Now();
    match_ms.push_back(absl::ToDoubleMilliseconds(t4 - t1));
    stage_ms[0].push_back(absl::ToDoubleMilliseconds(t2 - t1));
    stage_ms[1].push_back(absl::ToDoubleMilliseconds(t3 - t2));
    stage_ms[2].push_back(absl::ToDoubleMilliseconds(t4 - t3));
    for (const auto& n : outcome.matched.needs()) options += n.options_size();
    unmet += static_cast<int>(outcome.unmet.size());
  }

  double raw_p50 = Percentile(raw_ms, 0.5), raw_p99 = Percentile(raw_ms, 0.99);
  double p50 = Percentile(match_ms, 0.5), p99 = Percentile(match_ms, 0.99);
  printf(
      "\nMatching vs raw GEOSEARCH, %d resources, %d referrals (1-3 needs each) after %d "
      "unmeasured\n",
      resources, referrals, warmup);
  printf("%-18s %9s %9s\n", "", "p50 ms", "p99 ms");
  printf("%-18s %9.3f %9.3f\n", "raw GEOSEARCH", raw_p50, raw_p99);
  printf("%-18s %9.3f %9.3f\n", "matching", p50, p99);
  printf("ratio p99 matching/raw: %.2f (target <= 2); p99 %.3f ms (target <= 2 ms)\n",
         p99 / raw_p99, p99);
  printf("of which:\n");
  for (int k = 0; k < kStageCount; ++k) {
    if (stage_ms[k].empty()) continue;
    printf("  %-22s %9.3f %9.3f  (%zu referrals)\n", kStages[k], Percentile(stage_ms[k], 0.5),
           Percentile(stage_ms[k], 0.99), stage_ms[k].size());
  }
  printf("options offered: %d; needs unmet: %d\n", options, unmet);
  if (!out_json.empty()) {
    nlohmann::json j = {{"resources", resources},
                        {"referrals", referrals},
                        {"raw_geosearch_p50_ms", raw_p50},
                        {"raw_geosearch_p99_ms", raw_p99},
                        {"matching_p50_ms", p50},
                        {"matching_p99_ms", p99},
                        {"ratio_p99", p99 / raw_p99},
                        {"options", options},
                        {"unmet", unmet}};
    for (int k = 0; k < kStageCount; ++k) {
      if (stage_ms[k].empty()) continue;
      j["stages"][kStages[k]] = {{"p50_ms", Percentile(stage_ms[k], 0.5)},
                                 {"p99_ms", Percentile(stage_ms[k], 0.99)},
                                 {"referrals", stage_ms[k].size()}};
    }
    std::ofstream(out_json) << j.dump(2) << "\n";
  }
  return 0;
}

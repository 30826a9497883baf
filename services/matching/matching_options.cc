#include "services/matching/matching_options.h"

namespace signpost::matching {

void AddMatchingOptions(CLI::App& app, MatchingConfig& config) {
  AddCommonOptions(app, config.common);
  app.add_option("--postcodes", config.postcodes,
                 "CSV of postcode,latitude,longitude,lsoa,imd_decile to load into Redis")
      ->envname("SIGNPOST_POSTCODES");
  app.add_option("--imd-edition", config.imd_edition,
                 "The IMD edition of the deciles in --postcodes, recorded with a decile matching "
                 "gives a referral that came without one")
      ->envname("SIGNPOST_IMD_EDITION")
      ->check([](const std::string& v) {
        return v.empty() || v.size() > 20 ? std::string("must be 1 to 20 characters, e.g. IoD2025")
                                          : std::string();
      })
      ->capture_default_str();
  // The same setting as intake's: one variable for both services.
  app.add_option("--priority-imd-deciles", config.priority_imd_deciles,
                 "IMD deciles flagged priority (Core20) when matching derives the decile")
      ->envname("SIGNPOST_PRIORITY_IMD_DECILES")
      ->delimiter(',')
      ->check(CLI::Range(1, 10))
      ->capture_default_str();
  app.add_option("--radius-km", config.radius_km, "How far in-person options may be")
      ->envname("SIGNPOST_MATCH_RADIUS_KM")
      ->check(CLI::Range(0.1, 200.0))
      ->capture_default_str();
  app.add_option("--need-radius-km", config.need_radius_km,
                 "Radius for one need, overriding --radius-km: NEED=KM (repeatable), "
                 "e.g. physical_activity=3")
      ->envname("SIGNPOST_MATCH_NEED_RADIUS_KM")
      ->delimiter(',');
  app.add_option("--transport-barrier-factor", config.transport_barrier_factor,
                 "Radius scale for a person with a transport barrier")
      ->check(CLI::Range(0.05, 1.0))
      ->capture_default_str();
  app.add_option("--top-k", config.top_k, "Options per need")
      ->check(CLI::Range(1, 20))
      ->capture_default_str();
  app.add_option("--max-assured-age-days", config.max_assured_age_days,
                 "Directory entries not assured for longer are stale")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  app.add_flag("--exclude-stale", config.exclude_stale, "Exclude stale entries instead of marking");
  app.add_option("--workers", config.workers,
                 "Threads that run directory calls (they wait on Redis and Kafka; gRPC threads "
                 "do not)")
      ->envname("SIGNPOST_MATCHING_WORKERS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--queue-limit", config.queue_limit,
                 "Directory calls that may wait for a worker; beyond them a call is refused "
                 "RESOURCE_EXHAUSTED at once")
      ->envname("SIGNPOST_MATCHING_QUEUE_LIMIT")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
}

absl::StatusOr<MatchingOptions> MatchingOptionsFrom(const MatchingConfig& config,
                                                    std::string producer_name) {
  MatchingOptions options;
  if (absl::Status s = ParseNeedRadii(config.need_radius_km, options.policy.radius_km); !s.ok()) {
    return s;
  }
  options.topic_prefix = config.common.topic_prefix;
  options.producer_name = std::move(producer_name);
  options.policy.default_radius_km = config.radius_km;
  options.policy.transport_barrier_factor = config.transport_barrier_factor;
  options.policy.top_k = config.top_k;
  options.policy.max_assured_age = absl::Hours(24) * config.max_assured_age_days;
  options.policy.exclude_stale = config.exclude_stale;
  options.policy.imd_edition = config.imd_edition;
  options.policy.priority_imd_deciles = {config.priority_imd_deciles.begin(),
                                         config.priority_imd_deciles.end()};
  return options;
}

}  // namespace signpost::matching

#include "services/monitor/monitor_options.h"

namespace signpost::monitor {

void AddMonitorOptions(CLI::App& app, MonitorConfig& config) {
  AddCommonOptions(app, config.common);
  app.add_option("--look-back-hours", config.look_back_hours,
                 "How far back the figures reach; read again at every start")
      ->envname("SIGNPOST_MONITOR_LOOK_BACK_HOURS")
      ->check(CLI::Range(1, 24 * 400))
      ->capture_default_str();
  app.add_option("--caseload-look-back-days", config.caseload_look_back_days,
                 "How far back the matched and case events are read for link workers' open cases "
                 "(the provision view's caseload room): as long as a case may stay open")
      ->check(CLI::Range(1, 400))
      ->capture_default_str();
  app.add_option("--lag-interval-ms", config.lag_interval_ms, "How often lag is measured")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  app.add_option("--group", config.groups,
                 "Another consumer group to watch: GROUP=TOPIC[+TOPIC...] (names without the "
                 "prefix; repeatable)");
  app.add_option("--core20-population-share", config.equity.core20_share_of_population,
                 "Share of the served population living in IMD deciles 1-2")
      ->envname("SIGNPOST_CORE20_POPULATION_SHARE")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--suppress-below", config.equity.suppress_below,
                 "Withhold equity figures of groups with fewer referrals than this")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  app.add_option("--postcodes", config.postcodes,
                 "The postcode file matching loads (postcode,latitude,longitude,lsoa,imd_decile): "
                 "places resources and link workers' districts by deprivation in the provision "
                 "view")
      ->envname("SIGNPOST_POSTCODES")
      ->check(CLI::ExistingFile);
}

}  // namespace signpost::monitor

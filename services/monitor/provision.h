#pragma once

#include <array>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/geo/postcode_row.h"
#include "signpost/v1/events.pb.h"
#include "signpost/v1/ops_service.pb.h"

namespace signpost::monitor {

struct ProvisionOptions {
  int suppress_below = 5;     // small-number suppression, as the equity funnel's
  size_t referrals = 500000;  // followed at a time (and as many cases); the oldest are forgotten
  // Referrals, first contacts and unmet needs count over this (the monitor's look-back).
  absl::Duration look_back = absl::Hours(24);
  // A view is made at most this often; callers in between get the last one (it walks every
  // referral and case followed, under the lock the topics' reader needs).
  absl::Duration remake_after = absl::Seconds(2);
};

// Provision against need, by IMD quintile and by postcode district: referrals (matched, placed by
// the decile and district matching gave them) beside the link workers' caseload room, the
// directory's resource places, the needs left unmet and the days to first contact. The directory
// (resources, link workers, networks) comes from its compacted topic; a worker's open cases from
// the matched and case events (read further back than the look-back: see Observe); postcodes
// place resources and link workers' districts by deprivation. No I/O.
class ProvisionBook {
 public:
  explicit ProvisionBook(ProvisionOptions options = {});

  // The postcodes (and their deciles) that place resources and districts by deprivation; a
  // district's quintiles are those of its postcodes.
  void SetPostcodes(const std::vector<geo::PostcodeRow>& rows);

  // `within_look_back`: whether the event is recent enough to count as need; older matched and
  // case events (the monitor reads them as far back as cases stay open) only say whose caseload
  // a case is in.
  void Observe(const v1::Event& event, bool within_look_back = true);
  // A resource deleted (a tombstone on the directory topic, keyed by its id). Link workers and
  // networks are retired by marking them unavailable, as matching does: their tombstones are
  // ignored.
  void Forget(const std::string& directory_key);

  v1::Provision Provision(absl::Time now) const;

 private:
  struct Referral {
    bool matched = false;
    int decile = 0;
    std::string district;  // a well-formed outward code, or empty
    absl::Time matched_at = absl::InfinitePast();
    absl::Time first_contact = absl::InfinitePast();
  };
  struct Case {
    std::string link_worker;  // empty once ended or with a team
  };
  struct Worker {
    std::string network;
    std::vector<std::string> districts;
    int64_t max_active_cases = 0;
    bool available = false;
  };
  struct Place {
    std::string postcode;  // canonical, or empty
    int64_t total = 0;
    int64_t available = 0;
  };
  struct UnmetNeed {
    std::string referral_id;
    std::string event_id;
    int decile = 0;
    std::string district;
    absl::Time at;
  };
  Referral& ReferralOf(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Case& CaseOf(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::Provision Make(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ProvisionOptions options_;
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, int> decile_of_postcode_ ABSL_GUARDED_BY(mu_);
  // Postcodes per quintile (index 1..5; 0 for an unknown decile) of each district.
  std::map<std::string, std::array<int64_t, 6>> district_postcodes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Place> resources_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Worker> workers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::string>> network_districts_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, Referral> referrals_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> referral_order_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, Case> cases_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> case_order_ ABSL_GUARDED_BY(mu_);
  // Unmet needs in the order read, each once (a redelivery has the same event id).
  std::deque<UnmetNeed> unmet_ ABSL_GUARDED_BY(mu_);
  std::unordered_set<std::string> unmet_events_ ABSL_GUARDED_BY(mu_);
  mutable std::optional<std::pair<absl::Time, v1::Provision>> made_ ABSL_GUARDED_BY(mu_);
};

}  // namespace signpost::monitor

#pragma once

#include <array>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/geo/postcode_row.h"
#include "signpost/v1/events.pb.h"
#include "signpost/v1/ops_service.pb.h"

namespace signpost::monitor {

struct ProvisionOptions {
  int suppress_below = 5;     // small-number suppression, as the equity funnel's
  size_t referrals = 500000;  // followed at a time; the oldest are forgotten
};

// Provision against need, by IMD quintile and by postcode district: referrals (matched, placed by
// the decile and district matching gave them) beside the link workers' caseload room, the
// directory's resource places, the needs left unmet and the days to first contact. The directory
// (resources, link workers, networks) comes from its compacted topic; a worker's open cases from
// the matched and case events; postcodes place resources and link workers' districts by
// deprivation. No I/O.
class ProvisionBook {
 public:
  explicit ProvisionBook(ProvisionOptions options = {});

  // The postcodes (and their deciles) that place resources and districts by deprivation; a
  // district's quintiles are those of its postcodes.
  void SetPostcodes(const std::vector<geo::PostcodeRow>& rows);

  void Observe(const v1::Event& event);
  // A directory record deleted: the key of a tombstone on the directory topic (a resource id,
  // "link-worker:<id>" or "network:<id>").
  void Forget(const std::string& directory_key);

  v1::Provision Provision() const;

 private:
  struct Referral {
    bool matched = false;
    int decile = 0;
    std::string district;
    absl::Time matched_at = absl::InfinitePast();
    absl::Time first_contact = absl::InfinitePast();
  };
  struct Case {
    std::string link_worker;  // empty once ended or with a team
  };
  struct Worker {
    std::string network;
    std::vector<std::string> districts;
    int max_active_cases = 0;
    bool available = false;
  };
  struct Place {
    std::string postcode;
    int64_t total = 0;
    int64_t available = 0;
  };
  Referral& ReferralOf(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Case& CaseOf(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

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
  std::array<int64_t, 6> unmet_by_quintile_ ABSL_GUARDED_BY(mu_) = {};
  std::map<std::string, int64_t> unmet_by_district_ ABSL_GUARDED_BY(mu_);
};

}  // namespace signpost::monitor

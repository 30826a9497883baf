#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "signpost/v1/events.pb.h"
#include "signpost/v1/ops_service.pb.h"

namespace signpost::monitor {

struct EquityOptions {
  double core20_share_of_population = 0.2;  // by definition nationally; set per ICS
  int suppress_below = 5;                   // small-number suppression
  size_t referrals = 500000;                // followed at a time; the oldest are forgotten
};

// The equity funnel: who is referred, assigned, contacted, connected, closed with a better
// wellbeing score, and how long first contact takes, broken down by IMD quintile, age band, sex,
// ethnic group and each inclusion (PLUS) group. It reads the person's profile from the received
// event (and the IMD decile matching derived, when the referrer sent none, from the matched one)
// and keeps only the groups they belong to, never who they are. No I/O.
class EquityFunnelBook {
 public:
  explicit EquityFunnelBook(EquityOptions options = {});

  void Observe(const v1::Event& event);
  v1::EquityFunnel Funnel() const;

 private:
  struct Person {
    std::vector<std::pair<std::string, std::string>> groups;  // (dimension, group)
    int imd_decile = 0;
    absl::Time received = absl::InfinitePast();
    absl::Time first_contact = absl::InfinitePast();
    bool assigned = false, connected = false, closed = false;
    bool has_baseline = false, has_latest = false;
    double baseline = 0, latest = 0;
  };
  Person* Find(const std::string& referral_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void ApplyMatch(Person& person, int derived_decile);

  EquityOptions options_;
  mutable absl::Mutex mu_;
  // Hash maps, as every received, matched and case event looks its referral up here. A node map:
  // Find's pointer stays good while others are added.
  absl::node_hash_map<std::string, Person> people_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);
  // Each topic is read on its own, so a referral's match can be read before its receipt: the
  // match's decile waits here for it. The order holds every match that came early, used or not,
  // and its oldest are forgotten past options_.referrals; a number tells an entry from a later
  // one of the same referral (a match redelivered after its referral left the funnel).
  struct EarlyMatch {
    int decile = 0;
    uint64_t number = 0;
  };
  absl::flat_hash_map<std::string, EarlyMatch> early_matches_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<std::string, uint64_t>> early_order_ ABSL_GUARDED_BY(mu_);
  uint64_t early_numbered_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace signpost::monitor

#pragma once

#include <map>
#include <string>
#include <tuple>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "signpost/v1/events.pb.h"
#include "signpost/v1/ops_service.pb.h"

namespace signpost::monitor {

// Needs left without any acceptable resource (signpost.need.unmet), by day, postcode district,
// need category and reason: the gap report commissioners ask for. Days are UTC days of the
// events' occurred_at. No I/O.
class GapReportBook {
 public:
  void Observe(const v1::Event& event);

  // INVALID_ARGUMENT naming `since` / `until` when not YYYY-MM-DD or the wrong way round.
  absl::StatusOr<v1::GapReport> Report(const v1::GapReportRequest& request,
                                       absl::CivilDay today) const;

  // district,category,unmet,reasons ("reason (count); ..."), a header line first.
  static std::string Csv(const v1::GapReport& report);

 private:
  struct Row {
    int64_t unmet = 0;
    std::map<std::string, int64_t> reasons;
  };
  mutable absl::Mutex mu_;
  std::map<absl::CivilDay, std::map<std::pair<std::string, int>, Row>> days_ ABSL_GUARDED_BY(mu_);
};

}  // namespace signpost::monitor

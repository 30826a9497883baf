#pragma once

// The events the follow-up batch tests feed in: a plain match and a withdrawal, on a Monday.
#include <string>

#include "absl/time/time.h"
#include "common/events/event_factory.h"
#include "signpost/v1/events.pb.h"

namespace signpost::followup::batch_events {

inline const absl::Time kMonday =
    absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 0, 0), absl::UTCTimeZone());

inline v1::Event Matched(const std::string& rid) {
  v1::Event e;
  auto* m = e.mutable_referral_matched();
  auto* r = m->mutable_referral();
  r->set_source_system("emis-test");
  r->set_source_referral_id("src-" + rid);
  r->mutable_referrer()->set_ods_code("A81001");
  m->add_needs()->mutable_need()->set_category(v1::NEED_CATEGORY_LONELINESS);
  m->set_link_worker_id("lw-1");
  m->set_network_id("pcn-north");
  m->set_priority(v1::URGENCY_ROUTINE);
  events::Seal(e, rid, "signpost-matching", kMonday);
  return e;
}

inline v1::Event Withdrawn(const std::string& rid) {
  v1::Event e;
  e.mutable_referral_withdrawn()->set_reason(v1::WITHDRAWAL_REASON_CANCELLED_BY_REFERRER);
  events::Seal(e, rid, "signpost-intake", kMonday);
  return e;
}

}  // namespace signpost::followup::batch_events

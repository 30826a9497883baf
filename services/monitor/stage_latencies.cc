#include "services/monitor/stage_latencies.h"

#include <algorithm>

#include "common/events/case_states.h"
#include "common/events/timestamp.h"

namespace signpost::monitor {
namespace {

constexpr const char* kNames[] = {"referred",   "received",      "matched",
                                  "first_task", "first_contact", "closed"};

// Withdrawn cases did not run their course: not a "closed" stage.
bool Ends(v1::CaseState s) { return events::IsCaseEnded(s) && s != v1::CASE_STATE_WITHDRAWN; }

// `sorted` holds at least one value, in order.
double Percentile(const std::vector<double>& sorted, double p) {
  return sorted[std::min(sorted.size() - 1,
                         static_cast<size_t>(p * static_cast<double>(sorted.size())))];
}

}  // namespace

StageLatencies::StageLatencies(size_t referrals, size_t samples)
    : max_referrals_(referrals), max_samples_(samples) {}

void StageLatencies::Observe(const v1::Event& event) {
  const std::string& rid = event.envelope().referral_id();
  if (rid.empty()) return;
  absl::Time at = events::FromTimestamp(event.envelope().occurred_at());
  absl::MutexLock lock(&mu_);
  switch (event.payload_case()) {
    case v1::Event::kReferralReceived: {
      const auto& referral = event.referral_received().referral();
      if (referral.has_referred_at()) {
        Reach(rid, kReferred, events::FromTimestamp(referral.referred_at()));
      }
      Reach(rid, kReceived, at);
      break;
    }
    case v1::Event::kReferralMatched:
      Reach(rid, kMatched, at);
      break;
    case v1::Event::kTaskEvent:
      if (event.task_event().task().kind() == v1::TASK_KIND_FIRST_CONTACT &&
          event.task_event().task().status() == v1::TASK_STATUS_OPEN) {
        Reach(rid, kFirstTask, at);
      }
      break;
    case v1::Event::kCaseEvent: {
      const auto& c = event.case_event();
      if (c.contact_result() == v1::CONTACT_RESULT_REACHED) Reach(rid, kFirstContact, at);
      if (Ends(c.to_state()) && c.from_state() != c.to_state()) Reach(rid, kClosed, at);
      break;
    }
    default:
      break;
  }
}

void StageLatencies::Reach(const std::string& referral_id, Stage stage, absl::Time at) {
  auto [it, fresh] = reached_.try_emplace(referral_id);
  if (fresh) {
    it->second.fill(absl::InfinitePast());
    order_.push_back(referral_id);
    if (order_.size() > max_referrals_) {
      reached_.erase(order_.front());
      order_.pop_front();
    }
  }
  auto& times = it->second;
  if (times[stage] != absl::InfinitePast()) return;  // the first time counts (redeliveries)
  times[stage] = at;
  // Against the nearest earlier stage reached, and against every later one already seen (events
  // of different topics arrive in any order).
  for (int earlier = stage - 1; earlier >= 0; --earlier) {
    if (times[earlier] != absl::InfinitePast()) {
      Sample(static_cast<Stage>(earlier), stage, at - times[earlier]);
      break;
    }
  }
  for (int later = stage + 1; later < kStages; ++later) {
    if (times[later] != absl::InfinitePast()) {
      bool nearest = true;
      for (int between = stage + 1; between < later; ++between) {
        nearest &= times[between] == absl::InfinitePast();
      }
      if (nearest) Sample(stage, static_cast<Stage>(later), times[later] - at);
      break;
    }
  }
}

void StageLatencies::Sample(Stage from, Stage to, absl::Duration d) {
  auto& samples = samples_[{from, to}];
  samples.push_back(std::max(0.0, absl::ToDoubleSeconds(d)));
  if (samples.size() > max_samples_) samples.pop_front();
}

std::vector<v1::StageLatency> StageLatencies::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::StageLatency> out;
  for (const auto& [pair, samples] : samples_) {
    if (samples.empty()) continue;
    std::vector<double> v(samples.begin(), samples.end());
    std::sort(v.begin(), v.end());  // once for the three percentiles
    v1::StageLatency s;
    s.set_from_stage(kNames[pair.first]);
    s.set_to_stage(kNames[pair.second]);
    s.set_count(static_cast<int64_t>(v.size()));
    s.set_p50_seconds(Percentile(v, 0.5));
    s.set_p90_seconds(Percentile(v, 0.9));
    s.set_p99_seconds(Percentile(v, 0.99));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace signpost::monitor

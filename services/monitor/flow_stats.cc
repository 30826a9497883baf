#include "services/monitor/flow_stats.h"

#include <algorithm>
#include <climits>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/events/case_states.h"
#include "common/events/timestamp.h"
#include "common/events/unrouted.h"
#include "common/kafka/topics.h"
#include "services/monitor/bounded_label.h"

namespace signpost::monitor {
namespace {

// Distinct (source, reason) pairs counted for dead letters, and for rejections: far more than a
// region's topics, systems and broken rules. Past it a new pair counts under ("(other)",
// "(other)"), so the figures stay bounded for the life of the process whatever records arrive.
constexpr size_t kCountedPairs = 500;
constexpr char kOther[] = "(other)";
// The longest text kept from a record to count or show it by.
constexpr size_t kLabelBytes = 200;

using Counts = std::map<std::pair<std::string, std::string>, int64_t>;

void CountUnder(Counts& counts, std::pair<std::string, std::string> key) {
  if (counts.size() >= kCountedPairs && !counts.contains(key)) key = {kOther, kOther};
  counts[key] += 1;
}

// What a rejection is counted under: its first broken rule's field path without indices, not
// its reason text (which names values and differs for every referral).
std::string RejectionCategory(const v1::ReferralRejected& rejected) {
  if (rejected.violations().empty()) return "(no field named)";
  std::string field = FieldPathWithoutIndices(rejected.violations(0).field());
  return field.empty() ? "(the submission as a whole)" : BoundedLabel(field, kLabelBytes);
}

// Enough to see the oldest waiting message of any healthy group; older ones are reported as not
// seen rather than kept without bound.
constexpr size_t kTimesPerPartition = 50000;

// Unrouted referrals followed at once: far more than a region's coordinator would ever leave
// waiting; the oldest are forgotten past it.
constexpr size_t kUnroutedFollowed = 10000;

// Matched to the unrouted queue: no link worker, and the unrouted network (or none, as matching
// said before it named the queue).
bool IsUnroutedMatch(const v1::ReferralMatched& matched) {
  return matched.link_worker_id().empty() &&
         (matched.network_id().empty() || matched.network_id() == events::kUnroutedNetworkId);
}

std::string Header(const kafka::ConsumedMessage& m, absl::string_view name) {
  auto value = kafka::FindHeader(m.headers, name);
  return value ? std::string(*value) : std::string();
}

}  // namespace

FlowStats::FlowStats(std::string topic_prefix, size_t latest_dead_letters,
                     absl::Duration repeat_window)
    : prefix_(std::move(topic_prefix)),
      latest_limit_(latest_dead_letters),
      repeat_window_(repeat_window) {}

void FlowStats::Observe(const kafka::ConsumedMessage& message, const v1::Event* event) {
  std::string topic = message.topic;
  if (absl::StartsWith(topic, prefix_)) topic = topic.substr(prefix_.size());
  absl::MutexLock lock(&mu_);
  TopicTotals& totals = topics_[topic];
  int64_t bytes = static_cast<int64_t>(message.key.size()) +
                  static_cast<int64_t>(message.value ? message.value->size() : 0);
  totals.window.Add(absl::FromUnixMillis(message.timestamp_ms), bytes);
  totals.messages += 1;
  totals.last_ms = std::max(totals.last_ms, message.timestamp_ms);
  auto& times = times_[{topic, message.partition}];
  if (times.empty() || times.back().first < message.offset) {
    times.emplace_back(message.offset, message.timestamp_ms);
    if (times.size() > kTimesPerPartition) times.pop_front();
  }
  if (topic == kafka::TopicName(kafka::Topic::kDeadletter, "")) {
    ObserveDeadLetter(message);
  } else if (event != nullptr) {
    ObserveEvent(*event);
  }
}

void FlowStats::ObserveDeadLetter(const kafka::ConsumedMessage& message) {
  v1::DeadLetter letter;
  std::string source = Header(message, kafka::kHeaderDeadLetterTopic);
  if (absl::StartsWith(source, prefix_)) source = source.substr(prefix_.size());
  letter.set_source_topic(BoundedLabel(source, kLabelBytes));
  int32_t partition = 0;
  int64_t offset = 0;
  (void)absl::SimpleAtoi(Header(message, kafka::kHeaderDeadLetterPartition), &partition);
  (void)absl::SimpleAtoi(Header(message, kafka::kHeaderDeadLetterOffset), &offset);
  letter.set_source_partition(partition);
  letter.set_source_offset(offset);
  std::string group = Header(message, kafka::kHeaderDeadLetterGroup);
  if (absl::StartsWith(group, prefix_)) group = group.substr(prefix_.size());
  letter.set_group(BoundedLabel(group, kLabelBytes));
  letter.set_reason(BoundedLabel(Header(message, kafka::kHeaderDeadLetterReason), kLabelBytes));
  letter.set_key(BoundedLabel(message.key, kLabelBytes));
  *letter.mutable_at() = events::ToTimestamp(absl::FromUnixMillis(message.timestamp_ms));
  letter.set_partition(message.partition);
  letter.set_offset(message.offset);
  CountUnder(dead_letters_, {letter.source_topic(), letter.reason()});
  latest_.push_back(std::move(letter));
  if (latest_.size() > latest_limit_) latest_.erase(latest_.begin());
}

void FlowStats::ObserveEvent(const v1::Event& event) {
  if (event.has_referral_received()) {
    const std::string& person = event.referral_received().referral().sealed().person_ref();
    const std::string& referral = event.envelope().referral_id();
    if (person.empty() || referral.empty()) return;
    int64_t ms = absl::ToUnixMillis(events::FromTimestamp(event.envelope().occurred_at()));
    ForgetReferralsBefore(ms - absl::ToInt64Milliseconds(repeat_window_));
    auto [first, inserted] = first_referral_of_.emplace(person, std::make_pair(referral, ms));
    if (inserted) {
      people_in_order_.emplace_back(ms, person);
    } else if (first->second.first != referral && repeat_referrals_.insert(referral).second) {
      repeats_in_order_.emplace_back(ms, referral);
    }
  } else if (event.has_personal_data_access()) {
    personal_data_deliveries_ += 1;
  } else if (event.has_referral_rejected()) {
    const auto& r = event.referral_rejected();
    CountUnder(rejections_, {BoundedLabel(r.source_system(), kLabelBytes), RejectionCategory(r)});
    if (r.referrer_unreachable()) unreachable_rejections_ += 1;
  } else if (event.has_referral_matched()) {
    if (IsUnroutedMatch(event.referral_matched()) && !event.envelope().referral_id().empty()) {
      ObserveUnrouted(event.envelope().referral_id(), /*matched=*/true, /*routed=*/false);
    }
  } else if (event.has_case_event()) {
    const v1::CaseEvent& change = event.case_event();
    auto alert = change.alert();
    if (alert == v1::CASE_ALERT_SLA_AT_RISK) sla_at_risk_ += 1;
    if (alert == v1::CASE_ALERT_SLA_BREACHED) sla_breaches_ += 1;
    // An unrouted case leaves the queue when a coordinator gives it to a link worker, or it ends.
    bool leaves = !change.reassigned_to().empty() || (events::IsCaseEnded(change.to_state()) &&
                                                      change.from_state() != change.to_state());
    bool unrouted_network =
        change.network_id().empty() || change.network_id() == events::kUnroutedNetworkId;
    if (leaves && unrouted_network && !event.envelope().referral_id().empty()) {
      ObserveUnrouted(event.envelope().referral_id(), /*matched=*/false, /*routed=*/true);
    }
  } else if (event.has_need_unmet()) {
    const auto& n = event.need_unmet();
    unmet_[{n.postcode_district(), n.need().category()}] += 1;
  }
}

void FlowStats::ObserveUnrouted(const std::string& referral_id, bool matched, bool routed) {
  auto [it, inserted] = unrouted_.try_emplace(referral_id);
  if (inserted) unrouted_in_order_.push_back(referral_id);
  Unrouted& seen = it->second;
  bool waited = seen.matched && !seen.routed;
  if (matched && !seen.matched) unrouted_referrals_ += 1;
  seen.matched = seen.matched || matched;
  seen.routed = seen.routed || routed;
  unrouted_waiting_ += (seen.matched && !seen.routed) - waited;
  while (unrouted_in_order_.size() > kUnroutedFollowed) {
    auto oldest = unrouted_.find(unrouted_in_order_.front());
    if (oldest->second.matched && !oldest->second.routed) unrouted_waiting_ -= 1;
    unrouted_.erase(oldest);
    unrouted_in_order_.pop_front();
  }
}

void FlowStats::ForgetReferralsBefore(int64_t ms) {
  while (!people_in_order_.empty() && people_in_order_.front().first < ms) {
    auto it = first_referral_of_.find(people_in_order_.front().second);
    if (it != first_referral_of_.end() && it->second.second == people_in_order_.front().first) {
      first_referral_of_.erase(it);
    }
    people_in_order_.pop_front();
  }
  while (!repeats_in_order_.empty() && repeats_in_order_.front().first < ms) {
    repeat_referrals_.erase(repeats_in_order_.front().second);
    repeats_in_order_.pop_front();
  }
}

void FlowStats::SetLag(std::vector<v1::GroupLag> lag) {
  absl::MutexLock lock(&mu_);
  lag_ = std::move(lag);
}

// How long each lagging partition's oldest unprocessed message has waited by `now`, from the
// message times seen so far: a snapshot taken after the tail catches up (or later) knows more
// than the probe did when it measured the lag.
v1::GroupLag FlowStats::WithWaits(v1::GroupLag group, absl::Time now) const {
  double longest = 0;
  for (v1::PartitionLag& p : *group.mutable_partitions()) {
    if (p.lag() <= 0) continue;
    auto it = times_.find({group.topic(), p.partition()});
    if (it == times_.end()) continue;
    // The first message at or after the committed offset is the oldest one waiting.
    int64_t next = std::max<int64_t>(p.committed(), 0);
    const auto& times = it->second;
    auto at = std::lower_bound(times.begin(), times.end(), std::make_pair(next, INT64_MIN));
    if (at == times.end()) continue;
    double waited = std::max(0.0, absl::ToDoubleSeconds(now - absl::FromUnixMillis(at->second)));
    p.set_oldest_waiting_seconds(waited);
    longest = std::max(longest, waited);
  }
  group.set_oldest_waiting_seconds(longest);
  return group;
}

v1::FlowSnapshot FlowStats::Snapshot(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  v1::FlowSnapshot out;
  *out.mutable_at() = events::ToTimestamp(now);
  out.set_window_seconds(FlowWindow::kSeconds);
  for (const auto& [name, totals] : topics_) {
    v1::TopicFlow* flow = out.add_topics();
    flow->set_topic(name);
    flow->set_messages_per_second(totals.window.MessagesPerSecond(now));
    flow->set_bytes_per_second(totals.window.BytesPerSecond(now));
    flow->set_messages_total(totals.messages);
    *flow->mutable_last_message_at() = events::ToTimestamp(absl::FromUnixMillis(totals.last_ms));
  }
  for (const auto& group : lag_) *out.add_groups() = WithWaits(group, now);
  for (const auto& [key, count] : dead_letters_) {
    v1::DeadLetterCount* c = out.add_dead_letters();
    c->set_source_topic(key.first);
    c->set_reason(key.second);
    c->set_count(count);
  }
  for (auto it = latest_.rbegin(); it != latest_.rend(); ++it) *out.add_latest_dead_letters() = *it;
  for (const auto& [key, count] : rejections_) {
    v1::RejectionCount* c = out.add_rejections();
    c->set_source_system(key.first);
    c->set_reason(key.second);
    c->set_count(count);
  }
  out.set_sla_at_risk(sla_at_risk_);
  out.set_sla_breaches(sla_breaches_);
  out.set_repeat_referrals(static_cast<int64_t>(repeat_referrals_.size()));
  out.set_personal_data_deliveries(personal_data_deliveries_);
  out.set_unrouted_referrals(unrouted_referrals_);
  out.set_unrouted_waiting(unrouted_waiting_);
  out.set_unreachable_rejections(unreachable_rejections_);
  for (const auto& [key, count] : unmet_) {
    v1::UnmetNeedCount* c = out.add_unmet_needs();
    c->set_postcode_district(key.first);
    c->set_category(static_cast<v1::NeedCategory>(key.second));
    c->set_count(count);
  }
  return out;
}

}  // namespace signpost::monitor

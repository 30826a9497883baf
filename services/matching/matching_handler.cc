#include "services/matching/matching_handler.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"
#include "common/kafka/batch_plan.h"
#include "common/kafka/retry_policy.h"
#include "common/kafka/topics.h"
#include "services/matching/match_reading.h"
#include "services/matching/match_recording.h"
#include "services/matching/referral_matcher.h"

namespace signpost::matching {

MatchingHandler::MatchingHandler(MatchingOptions options, DirectoryIndex& directory, Roster& roster,
                                 kafka::Producer& producer, metrics::Registry& metrics,
                                 std::function<bool()> directory_ready,
                                 std::function<absl::Time()> clock)
    : options_(std::move(options)),
      directory_(directory),
      roster_(roster),
      producer_(producer),
      metrics_(metrics),
      directory_ready_(std::move(directory_ready)),
      clock_(std::move(clock)) {}

std::vector<kafka::Outcome> MatchingHandler::Handle(std::span<const kafka::ConsumedMessage> batch) {
  if (!directory_ready_()) {
    return std::vector<kafka::Outcome>(
        batch.size(), kafka::Outcome::Retry("the directory cache is being loaded"));
  }
  // First what each message is; then every received referral read at once.
  std::vector<std::optional<kafka::Outcome>> settled(batch.size());
  std::vector<v1::Event> events(batch.size());
  std::vector<ToMatch> to_read;
  std::vector<size_t> read_for;  // the message of each read
  for (size_t i = 0; i < batch.size(); ++i) {
    auto event = events::ParseEvent(batch[i]);
    if (!event.ok()) {
      settled[i] = kafka::OutcomeOf(event.status());
      continue;
    }
    events[i] = *std::move(event);
    if (!events[i].has_referral_received()) {  // withdrawals are not matching's business
      settled[i] = kafka::Outcome::Done();
      continue;
    }
    if (events[i].envelope().referral_id().empty()) {
      settled[i] =
          kafka::OutcomeOf(absl::InvalidArgumentError("received event has no referral id"));
      continue;
    }
    to_read.push_back(
        {&events[i].envelope().referral_id(), &events[i].referral_received().referral()});
    read_for.push_back(i);
  }
  absl::Time started = clock_();
  // Each referral matched once: its events as first recorded (built now, or recorded before).
  std::vector<absl::StatusOr<std::vector<std::string>>> recorded = MatchOnce(
      directory_, roster_, to_read, options_.policy,
      [&](size_t r, const MatchReading& read) { return Match(events[read_for[r]], read); });
  std::vector<std::vector<kafka::OutgoingMessage>> matches(batch.size());
  std::vector<bool> matched(batch.size(), false);
  for (size_t r = 0; r < recorded.size(); ++r) {
    size_t i = read_for[r];
    absl::Status s = recorded[r].status();
    for (size_t e = 0; s.ok() && e < recorded[r]->size(); ++e) {
      auto message = RecordedEventMessage((*recorded[r])[e], events[i].envelope().referral_id(),
                                          options_.topic_prefix);
      s = message.status();
      if (s.ok()) matches[i].push_back(*std::move(message));
    }
    if (s.ok()) {
      matched[i] = true;
      settled[i] = kafka::Outcome::Done();
    } else {  // Redis full, read-only or away: retried, never set aside
      matches[i].clear();
      settled[i] = kafka::OutcomeOf(s);
    }
  }
  // Each referral's share of the batch's reading, matching and recording.
  absl::Duration took = recorded.empty()
                            ? absl::ZeroDuration()
                            : (clock_() - started) / static_cast<int64_t>(recorded.size());

  auto& seconds = metrics_.GetHistogram("signpost_matching_seconds", "Time to match one referral",
                                        metrics::LatencyBuckets());
  std::vector<kafka::Outcome> out;
  out.reserve(batch.size());
  for (auto& outcome : settled) out.push_back(*std::move(outcome));
  // What the consumer will do with each (the common rule): a message after a retried one in its
  // partition comes again, so it publishes nothing now; one matched already publishes its
  // recorded events again when it comes back.
  std::vector<kafka::OutgoingMessage> to_publish;
  std::vector<size_t> published;  // the messages whose results wait for the send
  size_t referrals = 0, unmet = 0;
  for (const kafka::PlannedStep& step : kafka::PlanBatch(batch, out)) {
    const size_t i = step.index;
    if (step.action == kafka::PlannedStep::Action::kSkip) {
      out[i] = kafka::RetriedPartitions::Skipped();
      continue;
    }
    if (step.action != kafka::PlannedStep::Action::kCommit || !matched[i]) continue;
    seconds.Observe(absl::ToDoubleSeconds(took));
    published.push_back(i);
    ++referrals;
    unmet += matches[i].size() - 1;  // the match, then one event per unmet need
    for (auto& m : matches[i]) to_publish.push_back(std::move(m));
  }
  if (!to_publish.empty()) {
    if (absl::Status sent = producer_.SendAll(to_publish); !sent.ok()) {
      // None of the published messages is done: each comes again (the same recorded events),
      // and what follows it in its partition with it.
      for (size_t i : published) {
        out[i] = kafka::Outcome::Retry(absl::StrCat("publishing the matches: ", sent.message()));
      }
      return out;
    }
    metrics_.GetCounter("signpost_matching_referrals_total", "Referrals matched")
        .Increment(static_cast<double>(referrals));
    metrics_.GetCounter("signpost_matching_unmet_needs_total", "Needs left without an option")
        .Increment(static_cast<double>(unmet));
  }
  return out;
}

std::vector<v1::Event> MatchingHandler::Match(const v1::Event& event, const MatchReading& read) {
  const v1::ReferralReceived& received = event.referral_received();
  const std::string& referral_id = event.envelope().referral_id();
  absl::Time now = clock_();
  MatchOutcome outcome = MatchReferral(received, read.location, read.Candidates(), read.assignment,
                                       options_.policy, now);
  std::string traceparent = event.envelope().trace().traceparent();
  std::vector<v1::Event> out;
  v1::Event& matched = out.emplace_back();
  *matched.mutable_referral_matched() = std::move(outcome.matched);
  events::Seal(matched, referral_id, options_.producer_name, now, traceparent,
               event.envelope().event_id());
  matched.mutable_envelope()->set_event_id(
      events::NameBasedEventId(absl::StrCat("referral.matched:", referral_id)));
  for (UnmetNeed& need : outcome.unmet) {
    v1::Event& unmet = out.emplace_back();
    *unmet.mutable_need_unmet() = std::move(need.unmet);
    events::Seal(unmet, referral_id, options_.producer_name, now, traceparent,
                 event.envelope().event_id());
    // Named by the need's position too: a referral may name one category twice, and each unmet
    // need is its own event. A redelivery names them alike.
    unmet.mutable_envelope()->set_event_id(events::NameBasedEventId(
        absl::StrCat("need.unmet:", referral_id, ":", need.need_index, ":",
                     v1::NeedCategory_Name(unmet.need_unmet().need().category()))));
  }
  return out;
}

}  // namespace signpost::matching

#include "services/matching/matching_handler.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"
#include "common/kafka/topics.h"
#include "services/matching/match_reading.h"
#include "services/matching/referral_matcher.h"

namespace signpost::matching {

MatchingHandler::MatchingHandler(MatchingOptions options, DirectoryCache& directory,
                                 kafka::Producer& producer, metrics::Registry& metrics,
                                 std::function<bool()> directory_ready,
                                 std::function<absl::Time()> clock)
    : options_(std::move(options)),
      directory_(directory),
      producer_(producer),
      metrics_(metrics),
      directory_ready_(std::move(directory_ready)),
      clock_(std::move(clock)) {}

std::vector<kafka::Outcome> MatchingHandler::Handle(std::span<const kafka::ConsumedMessage> batch) {
  std::vector<kafka::Outcome> out;
  out.reserve(batch.size());
  std::vector<kafka::OutgoingMessage> to_publish;
  std::optional<size_t> first_published;  // the first message whose results wait for the send
  size_t referrals = 0, unmet = 0;
  for (const auto& message : batch) {
    if (!out.empty() && out.back().kind == kafka::Outcome::Kind::kRetry) {
      out.push_back(out.back());
      continue;
    }
    if (!directory_ready_()) {
      out.push_back(kafka::Outcome::Retry("the directory cache is being loaded"));
      continue;
    }
    auto event = events::ParseEvent(message);
    if (!event.ok()) {
      out.push_back(kafka::Outcome::DeadLetter(std::string(event.status().message())));
      continue;
    }
    if (!event->has_referral_received()) {  // withdrawals are not matching's business
      out.push_back(kafka::Outcome::Done());
      continue;
    }
    auto matched = Match(*event);
    if (matched.ok()) {
      if (!first_published) first_published = out.size();
      ++referrals;
      unmet += matched->size() - 1;  // the match, then one event per unmet need
      for (auto& m : *matched) to_publish.push_back(std::move(m));
      out.push_back(kafka::Outcome::Done());
    } else if (matched.status().code() == absl::StatusCode::kUnavailable ||
               matched.status().code() == absl::StatusCode::kResourceExhausted) {
      out.push_back(kafka::Outcome::Retry(std::string(matched.status().message())));
    } else {
      out.push_back(kafka::Outcome::DeadLetter(matched.status().ToString()));
    }
  }
  if (!to_publish.empty()) {
    if (absl::Status sent = producer_.SendAll(to_publish); !sent.ok()) {
      // Nothing from the first published message on is done: it all comes again (the same
      // events, the same assignments), in order.
      for (size_t i = *first_published; i < out.size(); ++i) {
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

absl::StatusOr<std::vector<kafka::OutgoingMessage>> MatchingHandler::Match(const v1::Event& event) {
  absl::Time started = clock_();
  const v1::ReferralReceived& received = event.referral_received();
  const v1::Referral& referral = received.referral();
  const std::string& referral_id = event.envelope().referral_id();
  if (referral_id.empty()) return absl::InvalidArgumentError("received event has no referral id");

  auto read = ReadForMatching(directory_, referral_id, referral, options_.policy);
  if (!read.ok()) return read.status();

  absl::Time now = clock_();
  MatchOutcome outcome = MatchReferral(received, read->location, read->Candidates(),
                                       read->assignment, options_.policy, now);
  std::string traceparent = event.envelope().trace().traceparent();
  std::vector<kafka::OutgoingMessage> messages;
  v1::Event matched;
  *matched.mutable_referral_matched() = std::move(outcome.matched);
  events::Seal(matched, referral_id, options_.producer_name, now, traceparent,
               event.envelope().event_id());
  matched.mutable_envelope()->set_event_id(
      events::NameBasedEventId(absl::StrCat("referral.matched:", referral_id)));
  messages.push_back(events::ToMessage(
      matched, kafka::TopicName(kafka::Topic::kReferralMatched, options_.topic_prefix),
      referral_id));
  for (size_t i = 0; i < outcome.unmet.size(); ++i) {
    v1::Event unmet;
    *unmet.mutable_need_unmet() = std::move(outcome.unmet[i]);
    events::Seal(unmet, referral_id, options_.producer_name, now, traceparent,
                 event.envelope().event_id());
    unmet.mutable_envelope()->set_event_id(events::NameBasedEventId(
        absl::StrCat("need.unmet:", referral_id, ":",
                     v1::NeedCategory_Name(unmet.need_unmet().need().category()))));
    messages.push_back(events::ToMessage(
        unmet, kafka::TopicName(kafka::Topic::kNeedUnmet, options_.topic_prefix), referral_id));
  }
  metrics_
      .GetHistogram("signpost_matching_seconds", "Time to match one referral",
                    metrics::LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(clock_() - started));
  return messages;
}

}  // namespace signpost::matching

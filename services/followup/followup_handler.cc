#include "services/followup/followup_handler.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"
#include "common/kafka/retry_policy.h"
#include "common/kafka/topics.h"
#include "services/followup/feedback_fhir_message.h"
#include "services/followup/rejection_feedback.h"

namespace signpost::followup {

FollowUpHandler::FollowUpHandler(CaseCommands& commands, kafka::Producer& producer,
                                 const crypto::PersonalDetailsCipher& cipher,
                                 std::string topic_prefix, std::string producer_name,
                                 metrics::Registry& metrics)
    : commands_(commands),
      producer_(producer),
      cipher_(cipher),
      topic_prefix_(std::move(topic_prefix)),
      producer_name_(std::move(producer_name)),
      opened_(metrics.GetCounter("signpost_followup_events_total", "Events handled",
                                 {{"type", "referral.matched"}})),
      withdrawn_(metrics.GetCounter("signpost_followup_events_total", "Events handled",
                                    {{"type", "referral.withdrawn"}})),
      rejected_(metrics.GetCounter("signpost_followup_events_total", "Events handled",
                                   {{"type", "referral.rejected"}})) {}

std::vector<kafka::Outcome> FollowUpHandler::Handle(std::span<const kafka::ConsumedMessage> batch) {
  std::vector<kafka::Outcome> out(batch.size());
  // The consumers' rule: after a retry the rest of its partition comes again, unhandled now.
  kafka::RetriedPartitions retried;
  auto settle = [&](size_t i, kafka::Outcome outcome) {
    retried.Note(batch[i], outcome);
    out[i] = std::move(outcome);
  };
  std::vector<v1::Event> events(batch.size());
  // Consecutive matches are opened together, before the next message that is not one.
  std::vector<const v1::Event*> run;
  std::vector<size_t> run_at;
  auto open_run = [&] {
    std::vector<absl::Status> opened = commands_.OpenMany(run);
    for (size_t k = 0; k < opened.size(); ++k) {
      size_t i = run_at[k];
      // Opened, but after a retried match of its partition: it comes again and finds its case.
      if (retried.Stopped(batch[i])) {
        out[i] = kafka::RetriedPartitions::Skipped();
        continue;
      }
      const absl::Status& s = opened[k];
      if (s.ok()) {
        opened_.Increment();
      } else if (!kafka::IsPoison(s.code())) {
        spdlog::warn("referral.matched of {}: {}", run[k]->envelope().referral_id(), s.ToString());
      }
      settle(i, kafka::OutcomeOf(s));
    }
    run.clear();
    run_at.clear();
  };
  for (size_t i = 0; i < batch.size(); ++i) {
    if (retried.Stopped(batch[i])) {
      out[i] = kafka::RetriedPartitions::Skipped();
      continue;
    }
    std::optional<kafka::Outcome> outcome;
    auto event = events::ParseEvent(batch[i]);
    if (!event.ok()) {
      outcome = kafka::OutcomeOf(event.status());
    } else {
      events[i] = *std::move(event);
      if (events[i].payload_case() == v1::Event::kReferralMatched) {
        outcome = OpenDetails(events[i]);
        if (!outcome) {
          run.push_back(&events[i]);
          run_at.push_back(i);
          continue;
        }
      }
    }
    // The matches before it first: one of them may stop its partition.
    open_run();
    if (retried.Stopped(batch[i])) {
      out[i] = kafka::RetriedPartitions::Skipped();
      continue;
    }
    settle(i, outcome ? *std::move(outcome) : HandleOther(events[i]));
  }
  open_run();
  return out;
}

std::optional<kafka::Outcome> FollowUpHandler::OpenDetails(v1::Event& matched) {
  // A key this service does not hold yet (a rotation that reached intake first) waits in its
  // partition until follow-up is given the keyring: nothing is set aside, and the lag shows it.
  // Details that do not authenticate will never open: they go to the dead-letter topic. Neither
  // message names a personal detail.
  absl::Status s = cipher_.Open(*matched.mutable_referral_matched()->mutable_referral(),
                                matched.envelope().referral_id());
  if (s.ok()) return std::nullopt;
  spdlog::error("referral.matched of {}: {}", matched.envelope().referral_id(),
                std::string(s.message()));
  return kafka::OutcomeOf(s);
}

kafka::Outcome FollowUpHandler::HandleOther(v1::Event& event) {
  absl::Status s;
  switch (event.payload_case()) {
    case v1::Event::kReferralWithdrawn:
      s = commands_.Withdraw(event);
      if (s.ok()) withdrawn_.Increment();
      break;
    case v1::Event::kReferralRejected:
      s = TellRejected(event);
      if (s.ok()) rejected_.Increment();
      break;
    default:
      return kafka::Outcome::Done();  // received referrals are matching's business
  }
  if (!s.ok() && !kafka::IsPoison(s.code())) {
    spdlog::warn("{} of {}: {}", std::string(events::EventTypeName(event)),
                 event.envelope().referral_id(), s.ToString());
  }
  return kafka::OutcomeOf(s);
}

absl::Status FollowUpHandler::TellRejected(const v1::Event& rejected) {
  const v1::ReferralRejected& r = rejected.referral_rejected();
  // To the practice when it is known; else to the sending system, whose integration engine reads
  // the messages keyed by its name. Neither known: nobody to tell (intake marks the rejection
  // referrer_unreachable and the monitor counts it).
  const std::string& to = r.referrer_ods_code().empty() ? r.source_system() : r.referrer_ods_code();
  if (to.empty()) return absl::OkStatus();
  v1::Event event = RejectionFeedback(rejected, producer_name_);
  AttachFhirMessage(event);
  absl::Status sent = producer_.Send(events::ToMessage(
      event, kafka::TopicName(kafka::Topic::kReferrerFeedback, topic_prefix_), to));
  return sent.ok() ? sent : absl::UnavailableError(sent.message());
}

}  // namespace signpost::followup

#include "services/matching/match_recording.h"

#include "absl/strings/str_cat.h"
#include "common/events/event_factory.h"
#include "common/kafka/topics.h"

namespace signpost::matching {

namespace {

// Enough for the contention of several matchers on one team; past it the message is retried.
constexpr int kAttempts = 8;

}  // namespace

std::vector<absl::StatusOr<std::vector<std::string>>> MatchOnce(DirectoryIndex& directory,
                                                                Roster& roster,
                                                                const std::vector<ToMatch>& batch,
                                                                const MatchPolicy& policy,
                                                                const BuildMatchEvents& build) {
  std::vector<absl::StatusOr<std::vector<std::string>>> out(batch.size(),
                                                            absl::AbortedError("not matched"));
  std::vector<size_t> pending(batch.size());  // read and decided again each round
  for (size_t i = 0; i < batch.size(); ++i) pending[i] = i;
  for (int attempt = 0; attempt < kAttempts && !pending.empty(); ++attempt) {
    std::vector<ToMatch> round;
    for (size_t i : pending) round.push_back(batch[i]);
    std::vector<absl::StatusOr<MatchReading>> reads = ReadForMatchingMany(directory, round, policy);
    std::vector<Roster::MatchToRecord> to_record;
    std::vector<size_t> recording;  // the batch index of each match to record
    for (size_t r = 0; r < round.size(); ++r) {
      const size_t i = pending[r];
      if (!reads[r].ok()) {
        out[i] = reads[r].status();
      } else if (!reads[r]->recorded.empty()) {
        out[i] = std::move(reads[r]->recorded);
      } else {
        Roster::MatchToRecord record = reads[r]->to_record;
        for (const v1::Event& event : build(i, *reads[r])) {
          record.events.push_back(event.SerializeAsString());
        }
        to_record.push_back(std::move(record));
        recording.push_back(i);
      }
    }
    pending.clear();
    std::vector<absl::StatusOr<Roster::RecordedMatch>> recorded = roster.RecordMatches(to_record);
    for (size_t k = 0; k < recorded.size(); ++k) {
      const size_t i = recording[k];
      if (!recorded[k].ok()) {
        out[i] = recorded[k].status();
      } else if (recorded[k]->state == Roster::RecordedMatch::State::kStale) {
        pending.push_back(i);
      } else {
        out[i] = std::move(recorded[k]->events);
      }
    }
  }
  for (size_t i : pending) {
    out[i] = absl::AbortedError(absl::StrCat(
        "referral ", *batch[i].referral_id,
        ": its team's roster or caseloads kept changing while it was assigned; retrying"));
  }
  return out;
}

absl::StatusOr<kafka::OutgoingMessage> RecordedEventMessage(const std::string& event,
                                                            const std::string& referral_id,
                                                            const std::string& topic_prefix) {
  v1::Event parsed;
  if (!parsed.ParseFromString(event)) {
    return absl::DataLossError(
        absl::StrCat("the recorded match of referral ", referral_id, " is not an event"));
  }
  kafka::Topic topic;
  if (parsed.has_referral_matched()) {
    topic = kafka::Topic::kReferralMatched;
  } else if (parsed.has_need_unmet()) {
    topic = kafka::Topic::kNeedUnmet;
  } else {
    return absl::DataLossError(absl::StrCat("the recorded match of referral ", referral_id,
                                            " holds an event of type '",
                                            events::EventTypeName(parsed), "'"));
  }
  kafka::OutgoingMessage message =
      events::ToMessage(parsed, kafka::TopicName(topic, topic_prefix), referral_id);
  message.value = event;  // the bytes first published, not a serialization of them
  return message;
}

}  // namespace signpost::matching

#pragma once

#include <functional>
#include <string>

#include "common/crypto/personal_details_cipher.h"
#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"
#include "common/metrics/registry.h"
#include "services/followup/case_commands.h"

namespace signpost::followup {

// Consumes signpost.referral.matched (opens cases; group signpost-followup),
// signpost.referral.received (withdrawals) and signpost.referral.rejected (tells the referrer;
// both in group signpost-followup-withdrawals, the same handler). Idempotent: a redelivered match
// finds its case open, a redelivered withdrawal finds it withdrawn, and a rejection's message back
// keeps its id and bytes (it is made from the rejection alone, its time the rejection's). Redis or
// the broker unreachable: retried, never skipped. Consecutive matches in a batch are opened
// together (CaseCommands::OpenMany), the rest one by one, in the batch's order. As with any
// handler, a retried message stops the rest of its partition in the batch.
class FollowUpHandler final : public kafka::BatchHandler {
 public:
  // `cipher` opens the matched referral's sealed identity and notes for the case.
  FollowUpHandler(CaseCommands& commands, kafka::Producer& producer,
                  const crypto::PersonalDetailsCipher& cipher, std::string topic_prefix,
                  std::string producer_name, metrics::Registry& metrics);

  std::vector<kafka::Outcome> Handle(std::span<const kafka::ConsumedMessage> batch) override;

 private:
  // A match's sealed details opened for its case; an outcome when they cannot be.
  std::optional<kafka::Outcome> OpenDetails(v1::Event& matched);
  kafka::Outcome HandleOther(v1::Event& event);
  absl::Status TellRejected(const v1::Event& rejected);

  CaseCommands& commands_;
  kafka::Producer& producer_;
  const crypto::PersonalDetailsCipher& cipher_;
  std::string topic_prefix_;
  std::string producer_name_;
  metrics::Counter& opened_;
  metrics::Counter& withdrawn_;
  metrics::Counter& rejected_;
};

}  // namespace signpost::followup

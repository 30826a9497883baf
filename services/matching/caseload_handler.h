#pragma once

#include "common/kafka/consumer.h"
#include "common/metrics/registry.h"
#include "services/matching/roster.h"

namespace signpost::matching {

// Keeps link workers' caseloads true to follow-up: consumes signpost.followup.events and gives a
// place back when a case ends (closed, declined, unable to contact, withdrawn, expired) and
// moves it when a case is reassigned. Each change counts once per referral, so redelivery and
// replays change nothing. Redis unreachable: retried.
class CaseloadHandler final : public kafka::MessageHandler {
 public:
  CaseloadHandler(Roster& roster, metrics::Registry& metrics);

 private:
  kafka::Outcome HandleMessage(const kafka::ConsumedMessage& message) override;

  Roster& roster_;
  metrics::Counter& released_;
  metrics::Counter& moved_;
};

}  // namespace signpost::matching

#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/kafka/producer.h"
#include "signpost/v1/followup_service.pb.h"

namespace signpost::followup {

// Who was given a person's details, which ones, why and when: one PersonalDataAccess event on
// signpost.audit.access per delivery, acknowledged by the broker (acks=all) before the details
// are handed over.
class AccessAudit {
 public:
  AccessAudit(kafka::Producer& producer, std::string topic_prefix, std::string instance,
              std::function<absl::Time()> clock, absl::Duration wait = absl::Seconds(5));

  // UNAVAILABLE when the record was not acknowledged within `wait` (INTERNAL for a permanent
  // failure): the caller must not deliver.
  absl::Status Record(const std::string& referral_id, const std::string& actor,
                      const std::string& rpc, const std::string& purpose, const v1::Case& delivered,
                      const auth::Principal& caller = {});

 private:
  kafka::Producer& producer_;
  absl::Duration wait_;
  std::string topic_;
  std::string instance_;
  std::function<absl::Time()> clock_;
};

// The case's personal fields that hold something ("identity.phone", ..., "referral_notes"), in
// field order.
std::vector<std::string> PersonalFields(const v1::Case& kase);

// The case without them, as an action answers.
void StripPersonalFields(v1::Case& kase);

}  // namespace signpost::followup

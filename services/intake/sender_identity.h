#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "signpost/v1/referral.pb.h"

namespace signpost::intake {

// Who sent a submission, as far as it can be read: where its rejection goes back to. Each field
// is kept only when well formed (a malformed one could not address anybody), so a submission
// that cannot be read at all may still name its sender in what can.
struct SenderIdentity {
  std::string source_system;       // 1-64 letters, digits, '.', '_', ':' or '-'
  std::string source_referral_id;  // 1-128 printable characters without spaces or '|'
  std::string referrer_ods_code;   // upper case, as IsValidOdsCode

  // Somebody can be told: the referring organisation, or at least the sending system.
  bool CanBeTold() const { return !referrer_ods_code.empty() || !source_system.empty(); }
};

// The well-formed parts of `sender`; the rest emptied.
SenderIdentity WellFormed(SenderIdentity sender);

// What a referral says of its sender (well-formed parts only).
SenderIdentity SenderOf(const v1::Referral& referral);

// What a submission's Kafka key says: "source_system/source_referral_id" (or a source system
// alone). Well-formed parts only; an empty key says nothing.
SenderIdentity SenderFromKafkaKey(absl::string_view key);

// `first`, each empty field filled from `fallback` (a referral id only with its own system).
SenderIdentity FilledFrom(SenderIdentity first, const SenderIdentity& fallback);

}  // namespace signpost::intake

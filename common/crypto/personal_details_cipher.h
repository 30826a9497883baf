#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/crypto/data_keyring.h"
#include "signpost/v1/referral.pb.h"

namespace signpost::crypto {

// Seals a referral's identity and notes for the bus and opens them again, with AES-256-GCM
// (OpenSSL). The referral id, the key id and the person reference are authenticated with the
// ciphertext, so sealed details cannot be moved onto another referral, relabelled with another
// key, or given another person's reference.
class PersonalDetailsCipher {
 public:
  explicit PersonalDetailsCipher(const DataKeyring& keys) : keys_(keys) {}

  // Moves identity and notes into `referral.sealed` (current key) and clears them.
  absl::Status Seal(v1::Referral& referral, absl::string_view referral_id) const;

  // Puts identity and notes back from `referral.sealed` and clears it. A referral with nothing
  // sealed (from before sealing existed) is left as it is. FAILED_PRECONDITION for a key this
  // keyring lacks; DATA_LOSS when the details do not authenticate (altered, or not this
  // referral's). Neither message holds any personal detail.
  absl::Status Open(v1::Referral& referral, absl::string_view referral_id) const;

  // Seals details to be kept at rest (follow-up's case in Redis) with the current key, bound to
  // `record` (what names the record, e.g. the case's key) and the key id, under a label apart from
  // the bus's: details sealed for a record cannot pass for an event's, nor for another record's.
  absl::StatusOr<v1::SealedPersonalDetails> SealRecord(const v1::PersonalDetails& details,
                                                       absl::string_view record) const;
  // Opens what SealRecord sealed for `record`, with whichever key of the keyring sealed it.
  // FAILED_PRECONDITION for a key this keyring lacks (naming the key); DATA_LOSS when the
  // details do not authenticate for `record`. Neither message holds any personal detail.
  absl::StatusOr<v1::PersonalDetails> OpenRecord(const v1::SealedPersonalDetails& sealed,
                                                 absl::string_view record) const;

  // HMAC-SHA256 (hex) of the NHS number, or of name + date of birth + postcode when there is
  // none; "" when there is neither.
  absl::StatusOr<std::string> PersonRef(const v1::PersonIdentity& identity) const;

 private:
  const DataKeyring& keys_;
};

}  // namespace signpost::crypto

#pragma once

#include <string>

#include "absl/status/status.h"
#include "common/crypto/personal_details_cipher.h"
#include "signpost/v1/followup_service.pb.h"

namespace signpost::followup {

// The person's details of a case (identity, referral notes) as follow-up keeps them in Redis:
// sealed with the data keyring's current key into the case's sealed_details, bound to the case's
// referral id, and opened with whichever key of the keyring sealed them. Redis (its AOF, its
// snapshots, a replica, a copy of its files) then holds no identity in clear; the keyring is
// only on follow-up's hosts.
class CaseDetailsSeal {
 public:
  explicit CaseDetailsSeal(const crypto::PersonalDetailsCipher& cipher) : cipher_(cipher) {}

  // Moves identity and referral_notes, when the case holds either, into sealed_details (sealed
  // anew, with the current key). A case holding neither keeps the sealed_details it has: an
  // action on a loaded case leaves its details sealed as they were, unopened.
  absl::Status Seal(v1::Case& kase) const;

  // Puts sealed_details back into identity and referral_notes and clears it. A case with nothing
  // sealed (purged, or written before sealing) is left as it is. FAILED_PRECONDITION for a key
  // this keyring lacks; DATA_LOSS when they do not authenticate for this case. Neither message
  // holds a personal detail.
  absl::Status Open(v1::Case& kase) const;

 private:
  const crypto::PersonalDetailsCipher& cipher_;
};

}  // namespace signpost::followup

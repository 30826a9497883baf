#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace signpost::intake {

// What identifies a submission: the submitting system and its own referral id.
struct SubmissionKey {
  std::string source_system;
  std::string source_referral_id;
};

// What the store compares to tell the same submission from a changed one.
struct Fingerprint {
  std::string content;  // of what the sender sent (see Submitter)
  // The same content as intake fingerprinted it before (the normalised referral, age included),
  // once for each age the person had within the store's retention (that intake put the age on
  // the day in): a submission recorded then is recognised by any of them, and its record takes
  // `content` from then on.
  std::vector<std::string> earlier;
};

// What an attempt proposes for a submission not seen before: the referral id to give it, and the
// received event built under that id (serialized), recorded with the claim in the same step so
// that a first attempt needs no second round trip before it sends. `event` may be empty: a
// submission seen first is then claimed with no event recorded, and the attempt records one
// with RecordEvent before it sends, as after taking over from an attempt that recorded none.
struct Proposal {
  std::string referral_id;
  std::string event;
};

struct Claim {
  enum class Kind {
    kClaimed,     // ours to publish, under `referral_id` (new, or taken over from a dead attempt)
    kDuplicate,   // published before with the same content
    kConflict,    // the key was used before with different content
    kInProgress,  // another attempt holds the lease and is publishing now
  };
  Kind kind;
  std::string referral_id;
  // kInProgress: until when the other attempt's lease holds it (should that attempt have died,
  // when a retry can take over).
  absl::Time held_until = absl::InfinitePast();
  // kClaimed: the received event (serialized) an earlier attempt recorded before it sent it, to
  // publish again byte for byte; empty when none was recorded.
  std::string recorded_event;
  // kClaimed: the submission was seen first now, under the proposal, whose event (if any) is
  // recorded as the one to publish.
  bool proposal_taken = false;
};

// One claim of several sent together (see SubmissionStore::TryClaimMany): what TryClaim takes.
struct ClaimRequest {
  const SubmissionKey& key;
  const Fingerprint& fingerprint;
  const Proposal& proposal;
  const std::string& owner;
};

// Remembers submissions so that each (source system, source referral id) yields one referral id
// and one received event, whatever the path, timing or retries. An attempt claims the key with a
// lease, records the event it is about to send (with the claim, for a submission seen first; or
// takes the one an earlier attempt recorded),
// publishes it, then marks the submission published, which forgets the event; a failed attempt
// releases it, and a crashed one's lease runs out, so a retry can take over with the same
// referral id and publish the same event again. A send that failed may still have reached the
// broker: every copy under the event id is then the same record.
class SubmissionStore {
 public:
  virtual ~SubmissionStore() = default;

  virtual absl::StatusOr<Claim> TryClaim(const SubmissionKey& key, const Fingerprint& fingerprint,
                                         const Proposal& proposal, const std::string& owner,
                                         absl::Time now, absl::Duration lease) = 0;
  // Several claims at once, each answered on its own, in order (one round trip where the store
  // allows: concurrent submissions are claimed together).
  virtual std::vector<absl::StatusOr<Claim>> TryClaimMany(const std::vector<ClaimRequest>& requests,
                                                          absl::Time now, absl::Duration lease) {
    std::vector<absl::StatusOr<Claim>> claims;
    claims.reserve(requests.size());
    for (const auto& r : requests) {
      claims.push_back(TryClaim(r.key, r.fingerprint, r.proposal, r.owner, now, lease));
    }
    return claims;
  }
  // Records `event` (serialized) as the received event of the submission claimed under
  // `referral_id`, unless an earlier attempt recorded one: the event to publish, byte for byte,
  // either way. nullopt when another attempt has published the submission meanwhile (nothing to
  // send); FAILED_PRECONDITION when the submission is no longer recorded under `referral_id`.
  virtual absl::StatusOr<std::optional<std::string>> RecordEvent(const SubmissionKey& key,
                                                                 const std::string& referral_id,
                                                                 std::string event) = 0;
  // Marks the submission published (when `owner` holds it) and forgets its recorded event.
  virtual absl::Status MarkPublished(const SubmissionKey& key, const std::string& owner) = 0;
  // Several at once (one round trip where the store allows); the first failure is returned.
  virtual absl::Status MarkPublishedMany(
      const std::vector<std::pair<SubmissionKey, std::string>>& keys_and_owners) {
    absl::Status first;
    for (const auto& [key, owner] : keys_and_owners) first.Update(MarkPublished(key, owner));
    return first;
  }
  virtual absl::Status Release(const SubmissionKey& key, const std::string& owner) = 0;
  virtual absl::StatusOr<std::optional<std::string>> FindReferralId(const SubmissionKey& key) = 0;
};

}  // namespace signpost::intake

#pragma once

#include <algorithm>
#include <map>
#include <set>

#include "absl/synchronization/mutex.h"
#include "services/intake/status_store.h"
#include "services/intake/submission_store.h"

namespace signpost::intake::testing {

// Unit tests only: the stores' contracts kept in memory (the Redis ones are tested against a
// real redis-server).
class InMemorySubmissionStore final : public SubmissionStore {
 public:
  absl::StatusOr<Claim> TryClaim(const SubmissionKey& key, const Fingerprint& fingerprint,
                                 const Proposal& proposal, const std::string& owner, absl::Time now,
                                 absl::Duration lease) override {
    absl::MutexLock lock(&mu_);
    if (!available_) return absl::UnavailableError("redis down");
    offered_events_.push_back(!proposal.event.empty());
    auto& r = records_[Key(key)];
    if (r.fingerprint.empty()) {
      r = {fingerprint.content, proposal.referral_id, false, owner, now + lease, proposal.event};
      Claim claim{Claim::Kind::kClaimed, proposal.referral_id};
      claim.proposal_taken = true;
      return claim;
    }
    if (r.fingerprint != fingerprint.content) {
      if (std::find(fingerprint.earlier.begin(), fingerprint.earlier.end(), r.fingerprint) ==
          fingerprint.earlier.end()) {
        return Claim{Claim::Kind::kConflict, r.referral_id};
      }
      r.fingerprint = fingerprint.content;
    }
    if (r.published) return Claim{Claim::Kind::kDuplicate, r.referral_id};
    if (r.lease_until <= now) {
      r.owner = owner;
      r.lease_until = now + lease;
      return Claim{Claim::Kind::kClaimed, r.referral_id, absl::InfinitePast(), r.event};
    }
    return Claim{Claim::Kind::kInProgress, r.referral_id, r.lease_until};
  }
  // Whether each claim so far offered an event with its proposal, in order.
  std::vector<bool> OfferedEvents() {
    absl::MutexLock lock(&mu_);
    return offered_events_;
  }
  // The record is lost (as a Redis that lost writes in a failover).
  void Forget(const SubmissionKey& key) {
    absl::MutexLock lock(&mu_);
    records_.erase(Key(key));
  }
  // What a record holds now (tests plant records as an earlier intake or a crashed one left them).
  void Plant(const SubmissionKey& key, std::string fingerprint, std::string referral_id,
             bool published, absl::Time lease_until) {
    absl::MutexLock lock(&mu_);
    records_[Key(key)] = {std::move(fingerprint), std::move(referral_id), published, "planted",
                          lease_until};
  }
  absl::StatusOr<std::optional<std::string>> RecordEvent(const SubmissionKey& key,
                                                         const std::string& referral_id,
                                                         std::string event) override {
    absl::MutexLock lock(&mu_);
    if (!available_) return absl::UnavailableError("redis down");
    auto it = records_.find(Key(key));
    if (it == records_.end() || it->second.referral_id != referral_id) {
      return absl::FailedPreconditionError("no longer recorded under " + referral_id);
    }
    if (it->second.published) return std::optional<std::string>();
    if (it->second.event.empty()) it->second.event = std::move(event);
    return std::optional<std::string>(it->second.event);
  }
  absl::Status MarkPublished(const SubmissionKey& key, const std::string& owner) override {
    absl::MutexLock lock(&mu_);
    auto& r = records_[Key(key)];
    if (r.owner == owner) {
      r.published = true;
      r.event.clear();
    }
    return absl::OkStatus();
  }
  // The received event recorded for a submission and not yet published (empty: none).
  std::string RecordedEvent(const SubmissionKey& key) {
    absl::MutexLock lock(&mu_);
    auto it = records_.find(Key(key));
    return it == records_.end() ? "" : it->second.event;
  }
  absl::Status Release(const SubmissionKey& key, const std::string& owner) override {
    absl::MutexLock lock(&mu_);
    auto& r = records_[Key(key)];
    if (r.owner == owner) r.lease_until = absl::InfinitePast();
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<std::string>> FindReferralId(const SubmissionKey& key) override {
    absl::MutexLock lock(&mu_);
    auto it = records_.find(Key(key));
    if (it == records_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second.referral_id);
  }
  void SetAvailable(bool available) {
    absl::MutexLock lock(&mu_);
    available_ = available;
  }

 private:
  struct Record {
    std::string fingerprint, referral_id;
    bool published = false;
    std::string owner;
    absl::Time lease_until;
    std::string event;  // recorded before the first send, until published
  };
  static std::string Key(const SubmissionKey& k) {
    return k.source_system + "|" + k.source_referral_id;
  }
  absl::Mutex mu_;
  std::vector<bool> offered_events_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Record> records_ ABSL_GUARDED_BY(mu_);
  bool available_ ABSL_GUARDED_BY(mu_) = true;
};

class InMemoryStatusStore final : public StatusStore {
 public:
  absl::Status Apply(const std::string& referral_id, const StatusUpdate& u) override {
    absl::MutexLock lock(&mu_);
    auto& seen = seen_[referral_id];
    if (!seen.insert(u.change.event_id()).second) return absl::OkStatus();
    auto& s = statuses_[referral_id];
    s.set_referral_id(referral_id);
    s.set_state(CombineStates(s.state(), u.change.state()));
    *s.add_history() = u.change;
    if (!u.source.source_system().empty()) *s.mutable_source() = u.source;
    if (!u.referrer_ods_code.empty()) s.set_referrer_ods_code(u.referrer_ods_code);
    if (u.priority != v1::URGENCY_UNSPECIFIED) s.set_priority(u.priority);
    raised_[referral_id] = std::max(raised_[referral_id], u.raised_priority);
    if (raised_[referral_id] > s.priority()) s.set_priority(raised_[referral_id]);
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<v1::GetReferralResponse>> Get(
      const std::string& referral_id) override {
    absl::MutexLock lock(&mu_);
    auto it = statuses_.find(referral_id);
    if (it == statuses_.end()) return std::optional<v1::GetReferralResponse>();
    return std::optional<v1::GetReferralResponse>(it->second);
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, v1::GetReferralResponse> statuses_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::set<std::string>> seen_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Urgency> raised_ ABSL_GUARDED_BY(mu_);
};

}  // namespace signpost::intake::testing

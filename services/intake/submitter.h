#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/crypto/personal_details_cipher.h"
#include "common/kafka/producer.h"
#include "common/metrics/registry.h"
#include "common/process/batch_queue.h"
#include "common/process/worker_pool.h"
#include "services/intake/delayed_calls.h"
#include "services/intake/metric_labels.h"
#include "services/intake/priority.h"
#include "services/intake/referral_validation.h"
#include "services/intake/sender_identity.h"
#include "services/intake/status_retention.h"
#include "services/intake/status_store.h"
#include "services/intake/submission_store.h"
#include "signpost/v1/events.pb.h"
#include "signpost/v1/intake_service.pb.h"

namespace signpost::intake {

using Clock = std::function<absl::Time()>;

struct SubmitterOptions {
  std::string topic_prefix;
  std::string producer_name = "signpost-intake";
  // How long an attempt holds a submission while publishing; longer than the producer's
  // delivery timeout, so only a crashed attempt's lease runs out.
  absl::Duration lease = absl::Seconds(60);
  // How long a concurrent duplicate waits for the first attempt before UNAVAILABLE, when its
  // caller's deadline does not say sooner. It waits off the workers, looking again now and then.
  absl::Duration in_progress_wait = absl::Seconds(40);
  // How many submissions may wait on another attempt's claim at once; beyond them a submission
  // that would wait is refused RESOURCE_EXHAUSTED at once.
  size_t max_waiting = 256;
  // Threads that look at waiting submissions again.
  int recheck_threads = 4;
  // At most this many claims go to the submission store in one round trip: every submission
  // arriving while the round trip before is under way is claimed in the next, together.
  size_t max_claims_per_round_trip = 128;
  // How many submissions may wait for their claim; beyond them RESOURCE_EXHAUSTED at once (a
  // stalled store holds up every claim, and what waits for it is bounded).
  size_t max_queued_claims = 256;
  PriorityPolicy priority;
  ValidationLimits limits;
  // How long the submission store remembers a submission: a record the earlier intake made (its
  // fingerprint holds the age on that day) may be this old.
  absl::Duration dedup_retention = absl::Hours(24 * 400);
  // How long the status store holds a referral's view after it reached a final state: what
  // GetStatus's "no longer held" answer says.
  absl::Duration status_retention = StatusRetention{}.status;
  // How many source systems the metrics name (those first accepted; the rest are "other").
  size_t max_source_system_labels = 50;
};

// One submission, with what came around the referral.
struct Submission {
  v1::Referral referral;
  v1::SubmissionChannel channel = v1::SUBMISSION_CHANNEL_GRPC;
  std::string traceparent;  // the caller's, if any
  // When the caller stops waiting (its gRPC deadline), on the wall clock: it is answered before.
  absl::Time deadline = absl::InfiniteFuture();
  // Who sent it by what came around the referral (the Kafka key, the FHIR MessageHeader): where
  // a rejection goes when the referral itself does not say.
  SenderIdentity sender;
  // When a Kafka submission was sent (its record's timestamp), the same on every delivery of it:
  // its rejection is dated then, so that a redelivery publishes the same rejection. A gRPC call
  // has none (its rejection is dated when it is made).
  absl::Time sent_at = absl::InfinitePast();
};

struct SubmitResult {
  std::string referral_id;
  bool duplicate = false;
  Priority priority;
};

// The one path every submission takes, whichever way it came: normalise, validate, triage
// priority, de-duplicate, publish referral.received (acks=all; identity and notes sealed with
// `cipher`), record the status. Rejections are published to referral.rejected with the reasons
// (the first ones, the rest counted), addressed to the sender as far as it can be read, under an
// event id derived from what was sent, so that a redelivered rejection is the same event.
//
// An event id names one content. The received event is recorded with the submission before its
// first send, and every later attempt (after a failed or timed-out send, whose record may land
// all the same, or a crashed attempt, on this instance or another) publishes those bytes again
// rather than sealing and stamping anew. A rejection of a Kafka submission is made the same on
// every delivery from what the record carries (its timestamp and traceparent).
//
// De-duplication compares a fingerprint of what the sender sent: the normalised referral without
// the age intake derives from the day, so the same referral is the same whenever, and by
// whichever channel, it comes again.
class Submitter {
 public:
  using Done = std::function<void(absl::StatusOr<SubmitResult>)>;

  Submitter(SubmitterOptions options, SubmissionStore& submissions, StatusStore& statuses,
            kafka::Producer& producer, const crypto::PersonalDetailsCipher& cipher,
            metrics::Registry& metrics, Clock clock);
  // Answers what waits on another attempt, makes the claims already queued (publishing what they
  // claim), then finishes the bookkeeping of every submission the broker has acknowledged.
  ~Submitter();

  // `done` runs once, on this thread (refused at capacity or when stopping), the claim thread, the
  // bookkeeping thread, the producer's or a re-check thread, after the received event is
  // acknowledged (or the rejection is published, or the attempt failed). Nothing waits on the
  // calling thread: it validates and seals, and the claim is queued for the claim thread, which
  // sends every claim queued meanwhile in one round trip (at most `max_queued_claims` wait; beyond,
  // RESOURCE_EXHAUSTED at once). The claim thread also hands each claimed submission to the
  // producer, so a producer queue full (the broker unreachable) holds up every claim until the send
  // gives up, and the queue of claims, bounded, refuses what comes meanwhile. A submission another
  // attempt is publishing waits off every thread (at most `max_waiting` of them; beyond,
  // RESOURCE_EXHAUSTED at once), is looked at again a little later, and if still held is answered
  // UNAVAILABLE, with when to retry, before its deadline, however long a look takes.
  void SubmitAsync(Submission submission, Done done);
  absl::StatusOr<SubmitResult> Submit(Submission submission);
  absl::StatusOr<SubmitResult> Submit(v1::Referral referral, v1::SubmissionChannel channel,
                                      std::string parent_traceparent = "");

  // A Kafka submission that could not even be read: publish its rejection to `sender` (as far as
  // known; `kafka_key` and `bytes` are the message as it came, which the rejection's id derives
  // from).
  // `sent_at` and `traceparent` are the record's (its timestamp and traceparent header).
  absl::Status RejectUnreadable(const std::string& kafka_key, const std::string& bytes,
                                const SenderIdentity& sender, const absl::Status& why,
                                v1::SubmissionChannel channel, absl::Time sent_at,
                                const std::string& traceparent);

  // For shutdown: every submission waiting for another attempt's claim is answered UNAVAILABLE
  // now (its caller retries, on another instance), and any that would wait from now on at once.
  void StopWaiting() { rechecks_.Stop(); }

  absl::StatusOr<v1::WithdrawReferralResponse> Withdraw(const v1::WithdrawReferralRequest& request);
  // Who may be told about a referral, by the organisation that made it: OK, or the refusal.
  using MaySee = std::function<absl::Status(absl::string_view referrer_ods_code)>;
  // The referral's status view: NOT_FOUND for an id never seen; FAILED_PRECONDITION "no longer
  // held" once its view has expired (options.status_retention after it reached a final state); the
  // refusal of `may_see` (when given) for a caller who may not see it, whether held or expired.
  absl::StatusOr<v1::GetReferralResponse> GetStatus(const v1::GetReferralRequest& request,
                                                    const MaySee& may_see = nullptr);

  // The name of the received event's id for a referral: the same on every attempt, so that a
  // republish after a lost acknowledgement is recognised downstream as the same event.
  static std::string ReceivedEventId(const std::string& referral_id);
  // The id of the rejection of one input (`input_digest`: a digest of what was sent) with
  // `rejected`'s content: the same on every delivery of that input.
  static std::string RejectedEventId(absl::string_view input_digest,
                                     const v1::ReferralRejected& rejected);

 private:
  // A valid submission on its way to a claim.
  struct Attempt {
    v1::Referral referral;  // normalised
    // The referral id and received event this attempt gives the submission if it is the first
    // (built before the claim, so that the claim records them in the same round trip), and the
    // same event unserialized.
    Proposal proposal;
    v1::Event proposed_event;
    bool event_offered = false;  // whether the last claim offered proposal.event
    Fingerprint fingerprint;
    SubmissionKey key;
    SenderIdentity sender;
    SubmitResult result;
    std::string owner;
    v1::SubmissionChannel channel;
    std::string traceparent;
    absl::Time sent_at;  // Submission::sent_at
    absl::Time give_up;  // wall clock: still held by another attempt then, UNAVAILABLE
    absl::Duration next_look = absl::Milliseconds(20);
    // Until when the other attempt holds it (unix ms), as last seen: read when it is given up on.
    std::atomic<int64_t> held_until_ms{0};
    // Set once it waits: whether it has been answered (by a look, or when given up on).
    std::shared_ptr<std::atomic<bool>> answered;
    DelayedCalls::Handle give_up_timer;  // cancelled when a look answers it first
    Done done;
  };
  // Queues `attempt` for the next round trip of claims.
  void TryToClaim(std::shared_ptr<Attempt> attempt);
  // One round trip of claims, on the claiming thread; each attempt goes on as Claimed says.
  void ClaimTogether(std::vector<std::shared_ptr<Attempt>>& attempts);
  void Claimed(std::shared_ptr<Attempt> attempt, absl::StatusOr<Claim> claim);
  // Makes `attempt` a waiting submission, answered UNAVAILABLE at its give_up time by the
  // re-check timer (without a store round trip) unless a look answers it first; false when
  // `max_waiting` wait already.
  bool StartWaiting(const std::shared_ptr<Attempt>& attempt);
  // Looks at a waiting submission again a little later, on a re-check thread.
  void LookAgainLater(const std::shared_ptr<Attempt>& attempt);
  absl::Status StillHeld(const SubmissionKey& key, absl::Time held_until);
  void Reject(const SenderIdentity& sender, const std::string& input_digest, absl::Status status,
              v1::SubmissionChannel channel, const std::string& traceparent, absl::Time sent_at,
              Done done);
  // Publishes the claimed submission's received event: the one proposed with the claim, an
  // earlier attempt's, or, when that attempt recorded none, one built now under the referral id
  // it gave and recorded before it is sent.
  void PublishClaimed(std::shared_ptr<Attempt> attempt, Claim claim);
  // Publishes `bytes`, the received event recorded for the submission (`event`, parsed).
  void Publish(std::shared_ptr<Attempt> attempt, v1::Event event, std::string bytes);
  // The received event of the attempt's referral under `referral_id`: identity and notes sealed,
  // envelope stamped now.
  absl::StatusOr<v1::Event> ReceivedEventOf(const Attempt& attempt, const std::string& referral_id);
  // Answers `attempt` with `failure` after releasing its claim (off the calling thread).
  void FailAttempt(Attempt& attempt, absl::Status failure);
  // `source_label` from labels_, never a source system as it came.
  void Count(v1::SubmissionChannel channel, const std::string& source_label,
             const std::string& result);
  void CountRejectedFields(v1::SubmissionChannel channel,
                           const std::vector<FieldViolation>& violations);

  // A submission the broker has acknowledged, waiting for its bookkeeping (submission marked
  // published, status recorded) before the caller hears back.
  struct Acknowledged {
    bool published = true;  // false: the send failed; release the claim and report `failure`
    absl::Status failure;
    SubmissionKey key;
    std::string owner;
    std::optional<StatusUpdate> update;
    v1::SubmissionChannel channel;
    SubmitResult result;
    Done done;
  };
  // Runs on the bookkeeping thread so that delivery reports are never held up by Redis (or on the
  // delivery thread, once that has stopped), and does the bookkeeping of everything acknowledged
  // meanwhile in two pipelined round trips.
  void Bookkeep(std::vector<Acknowledged>& batch);
  // Queues `acknowledged` for bookkeeping (done here and now once the bookkeeping thread stopped).
  void ToBookkeeping(Acknowledged acknowledged);

  SubmitterOptions options_;
  SubmissionStore& submissions_;
  StatusStore& statuses_;
  kafka::Producer& producer_;
  const crypto::PersonalDetailsCipher& cipher_;
  metrics::Registry& metrics_;
  Clock clock_;
  SourceSystemLabels labels_;

  std::atomic<size_t> waiting_{0};  // submissions waiting on another attempt's claim
  // Where waiting submissions are looked at again, so that one slow look holds up no other.
  std::unique_ptr<WorkerPool> recheck_workers_;
  // When to look again, and when to give up. It does no I/O itself, so every waiter is answered
  // at its give_up time. Stopped first (by the destructor), answering what still waits while the
  // rest is alive.
  DelayedCalls rechecks_;
  // Last, so that their threads start once everything they use is there (the destructor stops
  // them in the order work flows: claims, then bookkeeping).
  BatchQueue<std::shared_ptr<Attempt>> claims_;
  BatchQueue<Acknowledged> bookkeeping_;
};

std::string ChannelName(v1::SubmissionChannel channel);

}  // namespace signpost::intake

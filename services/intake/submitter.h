#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/crypto/personal_details_cipher.h"
#include "common/kafka/producer.h"
#include "common/metrics/registry.h"
#include "services/intake/priority.h"
#include "services/intake/referral_validation.h"
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
  // How long a concurrent duplicate waits for the first attempt before UNAVAILABLE.
  absl::Duration in_progress_wait = absl::Seconds(40);
  PriorityPolicy priority;
  ValidationLimits limits;
};

struct SubmitResult {
  std::string referral_id;
  bool duplicate = false;
  Priority priority;
};

// The one path every submission takes, whichever way it came: normalise, validate, triage
// priority, de-duplicate, publish referral.received (acks=all; identity and notes sealed with
// `cipher`), record the status. Rejections are published to referral.rejected with every reason.
class Submitter {
 public:
  using Done = std::function<void(absl::StatusOr<SubmitResult>)>;

  Submitter(SubmitterOptions options, SubmissionStore& submissions, StatusStore& statuses,
            kafka::Producer& producer, const crypto::PersonalDetailsCipher& cipher,
            metrics::Registry& metrics, Clock clock);
  // Finishes the bookkeeping of every submission already acknowledged by the broker.
  ~Submitter();

  // `done` runs once, on this thread or the producer's, after the received event is acknowledged
  // (or the rejection is published, or the attempt failed).
  void SubmitAsync(v1::Referral referral, v1::SubmissionChannel channel,
                   std::string parent_traceparent, Done done);
  absl::StatusOr<SubmitResult> Submit(v1::Referral referral, v1::SubmissionChannel channel,
                                      std::string parent_traceparent = "");

  // A Kafka submission that could not even be read: publish the rejection keyed by `key`.
  absl::Status RejectUnreadable(const std::string& key, const absl::Status& why,
                                v1::SubmissionChannel channel);

  absl::StatusOr<v1::WithdrawReferralResponse> Withdraw(const v1::WithdrawReferralRequest& request);
  absl::StatusOr<v1::GetReferralResponse> GetStatus(const v1::GetReferralRequest& request);

  // The name of the received event's id for a referral: the same on every attempt, so that a
  // republish after a lost acknowledgement is recognised downstream as the same event.
  static std::string ReceivedEventId(const std::string& referral_id);

 private:
  void Reject(const v1::Referral& referral, absl::Status status, v1::SubmissionChannel channel,
              const std::string& traceparent, Done done);
  void Publish(v1::Referral referral, SubmitResult result, SubmissionKey key, std::string owner,
               v1::SubmissionChannel channel, std::string traceparent, Done done);
  void Count(v1::SubmissionChannel channel, const std::string& source_system,
             const std::string& result);

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
  // Runs on its own thread so that delivery reports are never held up by Redis, and does the
  // bookkeeping of everything acknowledged meanwhile in two pipelined round trips.
  void Bookkeep();

  SubmitterOptions options_;
  SubmissionStore& submissions_;
  StatusStore& statuses_;
  kafka::Producer& producer_;
  const crypto::PersonalDetailsCipher& cipher_;
  metrics::Registry& metrics_;
  Clock clock_;

  absl::Mutex queue_mu_;
  std::deque<Acknowledged> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread bookkeeper_;
};

std::string ChannelName(v1::SubmissionChannel channel);

}  // namespace signpost::intake

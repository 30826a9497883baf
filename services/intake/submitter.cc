#include "services/intake/submitter.h"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "common/events/event_factory.h"
#include "common/kafka/topics.h"
#include "common/status/field_violations.h"

namespace signpost::intake {
namespace {

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

// Same content, same fingerprint: the normalised referral serialised deterministically.
std::string Fingerprint(const v1::Referral& referral) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream out(&stream);
  out.SetSerializationDeterministic(true);
  referral.SerializeToCodedStream(&out);
  out.Trim();
  return Sha256Hex(bytes);
}

v1::Event RejectionEvent(const v1::Referral& referral, const absl::Status& status) {
  v1::Event event;
  auto* rejected = event.mutable_referral_rejected();
  rejected->set_source_system(referral.source_system());
  rejected->set_source_referral_id(referral.source_referral_id());
  rejected->set_referrer_ods_code(referral.referrer().ods_code());
  rejected->set_reason(std::string(status.message()));
  auto violations = ViolationsOf(status);
  if (violations.empty()) violations.push_back({"", std::string(status.message())});
  for (const auto& v : violations) {
    auto* out = rejected->add_violations();
    out->set_field(v.field);
    out->set_description(v.description);
  }
  return event;
}

std::string RejectionKey(const v1::Referral& referral) {
  return absl::StrCat(referral.source_system(), "/", referral.source_referral_id());
}

}  // namespace

std::string ChannelName(v1::SubmissionChannel channel) {
  switch (channel) {
    case v1::SUBMISSION_CHANNEL_GRPC:
      return "grpc";
    case v1::SUBMISSION_CHANNEL_KAFKA_PROTOBUF:
      return "kafka_protobuf";
    case v1::SUBMISSION_CHANNEL_KAFKA_FHIR:
      return "kafka_fhir";
    default:
      return "unknown";
  }
}

Submitter::Submitter(SubmitterOptions options, SubmissionStore& submissions, StatusStore& statuses,
                     kafka::Producer& producer, const crypto::PersonalDetailsCipher& cipher,
                     metrics::Registry& metrics, Clock clock)
    : options_(std::move(options)),
      submissions_(submissions),
      statuses_(statuses),
      producer_(producer),
      cipher_(cipher),
      metrics_(metrics),
      clock_(std::move(clock)) {
  bookkeeper_ = std::thread([this] { Bookkeep(); });
}

Submitter::~Submitter() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  bookkeeper_.join();
}

void Submitter::Bookkeep() {
  while (true) {
    std::deque<Acknowledged> batch;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](Submitter* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->queue_mu_) {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping, and everything is done
      batch.swap(queue_);
    }
    std::vector<std::pair<SubmissionKey, std::string>> published;
    std::vector<std::pair<std::string, StatusUpdate>> updates;
    for (const auto& a : batch) {
      if (!a.published) {
        if (absl::Status released = submissions_.Release(a.key, a.owner); !released.ok()) {
          spdlog::warn("releasing submission {}|{}: {}", a.key.source_system,
                       a.key.source_referral_id, released.ToString());
        }
        continue;
      }
      published.emplace_back(a.key, a.owner);
      if (a.update) updates.emplace_back(a.result.referral_id, *a.update);
    }
    // The events are durable: the referrals are accepted whatever happens here. Should this
    // fail, a resubmission republishes the same event id, which consumers recognise, and the
    // status consumer records the status from the topic.
    if (absl::Status s = submissions_.MarkPublishedMany(published); !s.ok()) {
      spdlog::warn("marking {} submissions published: {}", published.size(), s.ToString());
    }
    if (absl::Status s = statuses_.ApplyMany(updates); !s.ok()) {
      spdlog::warn("recording the status of {} referrals: {}", updates.size(), s.ToString());
    }
    for (auto& a : batch) {
      if (!a.published) {
        Count(a.channel, a.key.source_system, "unavailable");
        a.done(std::move(a.failure));
        continue;
      }
      Count(a.channel, a.key.source_system, "accepted");
      a.done(std::move(a.result));
    }
  }
}

std::string Submitter::ReceivedEventId(const std::string& referral_id) {
  return events::NameBasedEventId(absl::StrCat("referral.received:", referral_id));
}

void Submitter::Count(v1::SubmissionChannel channel, const std::string& source_system,
                      const std::string& result) {
  metrics_
      .GetCounter("signpost_intake_submissions_total", "Referral submissions by outcome",
                  {{"channel", ChannelName(channel)},
                   {"source_system", source_system.empty() ? "unknown" : source_system},
                   {"result", result}})
      .Increment();
}

absl::StatusOr<SubmitResult> Submitter::Submit(v1::Referral referral, v1::SubmissionChannel channel,
                                               std::string parent_traceparent) {
  absl::Notification finished;
  absl::StatusOr<SubmitResult> out;
  SubmitAsync(std::move(referral), channel, std::move(parent_traceparent),
              [&](absl::StatusOr<SubmitResult> result) {
                out = std::move(result);
                finished.Notify();
              });
  finished.WaitForNotification();
  return out;
}

void Submitter::SubmitAsync(v1::Referral referral, v1::SubmissionChannel channel,
                            std::string traceparent, Done done) {
  absl::Time started = clock_();
  auto& latency = metrics_.GetHistogram(
      "signpost_intake_submit_seconds", "Time from submission to durable acknowledgement",
      metrics::LatencyBuckets(), {{"channel", ChannelName(channel)}});
  done = [done = std::move(done), &latency, started, this](absl::StatusOr<SubmitResult> r) {
    latency.Observe(absl::ToDoubleSeconds(clock_() - started));
    done(std::move(r));
  };

  referral = NormaliseReferral(std::move(referral), started);
  auto violations = ValidateReferral(referral, started, options_.limits);
  if (!violations.empty()) {
    for (const auto& v : violations) {
      metrics_
          .GetCounter("signpost_intake_rejections_total", "Rejected submissions by field",
                      {{"channel", ChannelName(channel)}, {"field", v.field}})
          .Increment();
    }
    Count(channel, referral.source_system(), "rejected");
    Reject(referral, ValidationStatus(violations), channel, traceparent, std::move(done));
    return;
  }

  SubmitResult result;
  result.priority = AssessPriority(referral, options_.priority);
  SubmissionKey key{referral.source_system(), referral.source_referral_id()};
  std::string fingerprint = Fingerprint(referral);
  std::string owner = events::NewEventId();
  absl::Time give_up = started + options_.in_progress_wait;
  while (true) {
    auto claim = submissions_.TryClaim(key, fingerprint, absl::StrCat("ref-", events::NewEventId()),
                                       owner, clock_(), options_.lease);
    if (!claim.ok()) {
      Count(channel, key.source_system, "unavailable");
      done(absl::UnavailableError(absl::StrCat("submission store: ", claim.status().message())));
      return;
    }
    result.referral_id = claim->referral_id;
    switch (claim->kind) {
      case Claim::Kind::kClaimed:
        Publish(std::move(referral), std::move(result), std::move(key), std::move(owner), channel,
                std::move(traceparent), std::move(done));
        return;
      case Claim::Kind::kDuplicate:
        result.duplicate = true;
        Count(channel, key.source_system, "duplicate");
        done(std::move(result));
        return;
      case Claim::Kind::kConflict: {
        Count(channel, key.source_system, "conflict");
        absl::Status conflict = absl::AlreadyExistsError(absl::StrCat(
            "source_referral_id: ", key.source_system, " already submitted '",
            key.source_referral_id, "' with different content (referral ", claim->referral_id,
            "); submit a change as a new referral, or withdraw the first"));
        Reject(referral, conflict, channel, traceparent, std::move(done));
        return;
      }
      case Claim::Kind::kInProgress:
        // Another attempt is publishing this very submission: wait for its outcome.
        if (clock_() >= give_up) {
          Count(channel, key.source_system, "unavailable");
          done(absl::UnavailableError(
              "an identical submission is still being processed; retry shortly"));
          return;
        }
        absl::SleepFor(absl::Milliseconds(20));
        continue;
    }
  }
}

void Submitter::Publish(v1::Referral referral, SubmitResult result, SubmissionKey key,
                        std::string owner, v1::SubmissionChannel channel, std::string traceparent,
                        Done done) {
  if (absl::Status sealed = cipher_.Seal(referral, result.referral_id); !sealed.ok()) {
    // Nothing was published: the claim is released as after a failed send.
    absl::MutexLock lock(&queue_mu_);
    queue_.push_back(
        {false, absl::InternalError(absl::StrCat("referral not accepted: ", sealed.message())),
         std::move(key), std::move(owner), std::nullopt, channel, std::move(result),
         std::move(done)});
    return;
  }
  v1::Event event;
  auto* received = event.mutable_referral_received();
  *received->mutable_referral() = std::move(referral);
  received->set_priority(result.priority.urgency);
  received->set_channel(channel);
  for (const auto& reason : result.priority.reasons) received->add_priority_reasons(reason);
  events::Seal(event, result.referral_id, options_.producer_name, clock_(), traceparent);
  event.mutable_envelope()->set_event_id(ReceivedEventId(result.referral_id));
  auto message = events::ToMessage(
      event, kafka::TopicName(kafka::Topic::kReferralReceived, options_.topic_prefix),
      result.referral_id);

  producer_.SendAsync(
      std::move(message),
      [this, event = std::move(event), result = std::move(result), key = std::move(key),
       owner = std::move(owner), channel, done = std::move(done)](absl::Status sent) mutable {
        absl::MutexLock lock(&queue_mu_);
        if (!sent.ok()) {
          // Nothing was recorded downstream: the claim is released (off this thread) so that
          // a retry can claim the submission again at once. Only an unreachable broker is
          // worth retrying as it is; anything else is the internal error it is.
          absl::Status failure =
              sent.code() == absl::StatusCode::kUnavailable
                  ? absl::UnavailableError(absl::StrCat("referral not accepted: ", sent.message()))
                  : absl::InternalError(absl::StrCat("referral not accepted: ", sent.message()));
          queue_.push_back({false, std::move(failure), std::move(key), std::move(owner),
                            std::nullopt, channel, std::move(result), std::move(done)});
          return;
        }
        queue_.push_back({true, absl::OkStatus(), std::move(key), std::move(owner),
                          ProjectStatus(event), channel, std::move(result), std::move(done)});
      });
}

void Submitter::Reject(const v1::Referral& referral, absl::Status status,
                       v1::SubmissionChannel channel, const std::string& traceparent, Done done) {
  v1::Event event = RejectionEvent(referral, status);
  events::Seal(event, "", options_.producer_name, clock_(), traceparent);
  auto message = events::ToMessage(
      event, kafka::TopicName(kafka::Topic::kReferralRejected, options_.topic_prefix),
      RejectionKey(referral));
  bool from_kafka = channel != v1::SUBMISSION_CHANNEL_GRPC;
  producer_.SendAsync(std::move(message), [status = std::move(status), from_kafka,
                                           done = std::move(done)](absl::Status sent) {
    if (!sent.ok()) {
      spdlog::warn("publishing a rejection: {}", sent.ToString());
      // A Kafka submission's sender learns of the rejection only from the topic: try again.
      if (from_kafka) {
        done(absl::UnavailableError(absl::StrCat("rejection not published: ", sent.message())));
        return;
      }
    }
    done(status);
  });
}

absl::Status Submitter::RejectUnreadable(const std::string& key, const absl::Status& why,
                                         v1::SubmissionChannel channel) {
  Count(channel, "unknown", "rejected");
  v1::Event event = RejectionEvent(v1::Referral(), why);
  events::Seal(event, "", options_.producer_name, clock_());
  return producer_.Send(events::ToMessage(
      event, kafka::TopicName(kafka::Topic::kReferralRejected, options_.topic_prefix), key));
}

absl::StatusOr<v1::GetReferralResponse> Submitter::GetStatus(
    const v1::GetReferralRequest& request) {
  std::string referral_id = request.referral_id();
  if (request.has_source()) {
    auto found = submissions_.FindReferralId(
        {request.source().source_system(), request.source().source_referral_id()});
    if (!found.ok()) return absl::UnavailableError(found.status().message());
    if (!found->has_value()) {
      return absl::NotFoundError(absl::StrCat("no referral from ", request.source().source_system(),
                                              " with id '", request.source().source_referral_id(),
                                              "'"));
    }
    referral_id = **found;
  }
  if (referral_id.empty()) {
    return InvalidArgumentWithViolations({{"referral_id", "required (or source)"}});
  }
  auto status = statuses_.Get(referral_id);
  if (!status.ok()) return absl::UnavailableError(status.status().message());
  if (!status->has_value()) {
    return absl::NotFoundError(absl::StrCat("no referral '", referral_id, "'"));
  }
  return **status;
}

absl::StatusOr<v1::WithdrawReferralResponse> Submitter::Withdraw(
    const v1::WithdrawReferralRequest& request) {
  std::vector<FieldViolation> violations;
  if (request.referral_id().empty()) violations.push_back({"referral_id", "required"});
  if (request.reason() == v1::WITHDRAWAL_REASON_UNSPECIFIED ||
      !v1::WithdrawalReason_IsValid(request.reason())) {
    violations.push_back({"reason", "required: why the referral is withdrawn"});
  }
  if (request.detail().size() > 500) violations.push_back({"detail", "longer than 500 characters"});
  if (!violations.empty()) return InvalidArgumentWithViolations(violations);

  v1::GetReferralRequest get;
  get.set_referral_id(request.referral_id());
  auto current = GetStatus(get);
  if (!current.ok()) return current.status();
  v1::WithdrawReferralResponse response;
  if (current->state() == v1::REFERRAL_STATE_WITHDRAWN) {
    response.set_state(v1::REFERRAL_STATE_WITHDRAWN);
    response.set_already_withdrawn(true);
    return response;
  }
  if (IsTerminal(current->state())) {
    return absl::FailedPreconditionError(absl::StrCat("referral ", request.referral_id(), " is ",
                                                      v1::ReferralState_Name(current->state()),
                                                      " and can no longer be withdrawn"));
  }
  v1::Event event;
  auto* withdrawn = event.mutable_referral_withdrawn();
  withdrawn->set_reason(request.reason());
  withdrawn->set_detail(request.detail());
  withdrawn->set_withdrawn_by(request.withdrawn_by());
  withdrawn->set_purge_personal_data(request.reason() == v1::WITHDRAWAL_REASON_CONSENT_WITHDRAWN);
  withdrawn->set_referrer_ods_code(current->referrer_ods_code());
  withdrawn->set_source_system(current->source().source_system());
  withdrawn->set_source_referral_id(current->source().source_referral_id());
  events::Seal(event, request.referral_id(), options_.producer_name, clock_());
  absl::Status sent = producer_.Send(events::ToMessage(
      event, kafka::TopicName(kafka::Topic::kReferralReceived, options_.topic_prefix),
      request.referral_id()));
  if (!sent.ok()) return absl::UnavailableError(sent.message());
  if (auto update = ProjectStatus(event)) {
    if (absl::Status applied = statuses_.Apply(request.referral_id(), *update); !applied.ok()) {
      spdlog::warn("recording withdrawal of {}: {}", request.referral_id(), applied.ToString());
    }
  }
  response.set_state(v1::REFERRAL_STATE_WITHDRAWN);
  return response;
}

}  // namespace signpost::intake

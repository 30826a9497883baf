#include "services/intake/submitter.h"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "common/events/event_factory.h"
#include "common/kafka/topics.h"
#include "common/status/field_violations.h"
#include "services/intake/violation_list.h"

namespace signpost::intake {
namespace {

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream out(&stream);
  out.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&out);
  out.Trim();
  return bytes;
}

// Same content, same fingerprint. What the sender sent, in canonical form: the normalised
// referral without the age intake derives from the day (an identical resubmission after a
// birthday is the same referral). `earlier` is what intake recorded before it left the age out:
// the normalised referral with the age on the day it was recorded, which may have been any day
// within `retention` (`now` - `retention` .. `now`), so with each age the person had meanwhile.
Fingerprint FingerprintOf(const v1::Referral& normalised, absl::Time now,
                          absl::Duration retention) {
  v1::Referral sent = normalised;
  sent.mutable_profile()->clear_age_years();
  Fingerprint fingerprint{Sha256Hex(DeterministicBytes(sent)),
                          {Sha256Hex(DeterministicBytes(normalised))}};
  const int age = normalised.profile().age_years();
  const int age_then = NormaliseReferral(normalised, now - retention).profile().age_years();
  v1::Referral younger = normalised;
  for (int earlier_age = age - 1; earlier_age >= std::max(age_then, 0); --earlier_age) {
    younger.mutable_profile()->set_age_years(earlier_age);
    fingerprint.earlier.push_back(Sha256Hex(DeterministicBytes(younger)));
  }
  return fingerprint;
}

// How long before the caller's deadline an answer is given, so that it arrives in time.
absl::Time AnswerBy(absl::Time started, absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return deadline;
  absl::Duration margin =
      std::clamp((deadline - started) / 10, absl::Milliseconds(250), absl::Seconds(1));
  return deadline - margin;
}

v1::Event RejectionEvent(const SenderIdentity& sender, const absl::Status& status,
                         v1::SubmissionChannel channel) {
  v1::Event event;
  auto* rejected = event.mutable_referral_rejected();
  rejected->set_source_system(sender.source_system);
  rejected->set_source_referral_id(sender.source_referral_id);
  rejected->set_referrer_ods_code(sender.referrer_ods_code);
  rejected->set_reason(Abbreviated(std::string(status.message()), 1000));
  auto violations = ViolationsOf(status);
  if (violations.empty()) violations.push_back({"", rejected->reason()});
  for (const auto& v : violations) {
    auto* out = rejected->add_violations();
    out->set_field(v.field);
    out->set_description(v.description);
  }
  // A gRPC caller hears of it in the reply; from Kafka, only a named sender can be told.
  rejected->set_referrer_unreachable(channel != v1::SUBMISSION_CHANNEL_GRPC && !sender.CanBeTold());
  return event;
}

// A rejection's envelope, the same on every delivery of the same input as its id is: dated when
// the submission was sent (`sent_at`, a Kafka record's timestamp; `now` for a gRPC call, which
// has none), traced as a span named by its id under the submission's trace, and made by the
// service (`producer` without its instance: a redelivery may reach another instance).
void SealRejection(v1::Event& event, absl::string_view input_digest, absl::string_view producer,
                   absl::Time sent_at, absl::Time now, absl::string_view parent_traceparent) {
  absl::string_view service = producer.substr(0, producer.find('/'));
  events::Seal(event, "", service, sent_at == absl::InfinitePast() ? now : sent_at);
  std::string id = Submitter::RejectedEventId(input_digest, event.referral_rejected());
  event.mutable_envelope()->mutable_trace()->set_traceparent(
      events::NameBasedTraceparent(id, parent_traceparent));
  event.mutable_envelope()->set_event_id(std::move(id));
}

std::string RejectionKey(const SenderIdentity& sender) {
  if (sender.source_system.empty()) return "unknown";
  return absl::StrCat(sender.source_system, "/", sender.source_referral_id);
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
    case v1::SUBMISSION_CHANNEL_FHIR_HTTP:
      return "fhir_http";
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
      clock_(std::move(clock)),
      labels_(options_.max_source_system_labels),
      recheck_workers_(std::make_unique<WorkerPool>(std::max(options_.recheck_threads, 1),
                                                    std::max<size_t>(options_.max_waiting, 1))),
      claims_(
          options_.max_claims_per_round_trip,
          [this](std::vector<std::shared_ptr<Attempt>>& batch) { ClaimTogether(batch); },
          std::max<size_t>(options_.max_queued_claims, 1)),
      // As many as were acknowledged meanwhile, up to 1,024 (after a stall of Redis, a backlog
      // goes in several round trips, not one pipeline of all of it): two round trips a batch.
      bookkeeping_(1024, [this](std::vector<Acknowledged>& batch) { Bookkeep(batch); }) {}

Submitter::~Submitter() {
  rechecks_.Stop();          // what waits for another attempt is answered while the rest still runs
  recheck_workers_.reset();  // looks under way finish (their submissions answered already)
  claims_.Stop();            // claims queued are made, and their submissions sent
  bookkeeping_.Stop();       // what the broker acknowledged is recorded and answered
}

void Submitter::ToBookkeeping(Acknowledged acknowledged) {
  // Never full (its bound is none): what waits here is what the producer held, which its queue
  // bounds.
  if (bookkeeping_.Push(acknowledged) == BatchQueue<Acknowledged>::Pushed::kQueued) return;
  std::vector<Acknowledged> one;
  one.push_back(std::move(acknowledged));
  Bookkeep(one);
}

void Submitter::Bookkeep(std::vector<Acknowledged>& batch) {
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
      Count(a.channel, labels_.Of(a.key.source_system), "unavailable");
      a.done(std::move(a.failure));
      continue;
    }
    Count(a.channel, labels_.Accepted(a.key.source_system), "accepted");
    a.done(std::move(a.result));
  }
}

std::string Submitter::ReceivedEventId(const std::string& referral_id) {
  return events::NameBasedEventId(absl::StrCat("referral.received:", referral_id));
}

std::string Submitter::RejectedEventId(absl::string_view input_digest,
                                       const v1::ReferralRejected& rejected) {
  return events::NameBasedEventId(absl::StrCat("referral.rejected:", input_digest, ":",
                                               Sha256Hex(DeterministicBytes(rejected))));
}

void Submitter::Count(v1::SubmissionChannel channel, const std::string& source_label,
                      const std::string& result) {
  metrics_
      .GetCounter(
          "signpost_intake_submissions_total", "Referral submissions by outcome",
          {{"channel", ChannelName(channel)}, {"source_system", source_label}, {"result", result}})
      .Increment();
}

void Submitter::CountRejectedFields(v1::SubmissionChannel channel,
                                    const std::vector<FieldViolation>& violations) {
  // Once per field and submission, the field named without indices.
  std::set<std::string> fields;
  for (const auto& v : violations) fields.insert(FieldLabel(v.field));
  for (const auto& field : fields) {
    metrics_
        .GetCounter("signpost_intake_rejections_total", "Rejected submissions by field",
                    {{"channel", ChannelName(channel)}, {"field", field}})
        .Increment();
  }
}

absl::StatusOr<SubmitResult> Submitter::Submit(Submission submission) {
  absl::Notification finished;
  absl::StatusOr<SubmitResult> out;
  SubmitAsync(std::move(submission), [&](absl::StatusOr<SubmitResult> result) {
    out = std::move(result);
    finished.Notify();
  });
  finished.WaitForNotification();
  return out;
}

absl::StatusOr<SubmitResult> Submitter::Submit(v1::Referral referral, v1::SubmissionChannel channel,
                                               std::string parent_traceparent) {
  Submission submission;
  submission.referral = std::move(referral);
  submission.channel = channel;
  submission.traceparent = std::move(parent_traceparent);
  return Submit(std::move(submission));
}

void Submitter::SubmitAsync(Submission submission, Done done) {
  absl::Time started = clock_();
  absl::Time wall_started = absl::Now();  // deadlines are on the wall clock, whatever clock_ says
  const v1::SubmissionChannel channel = submission.channel;
  auto& latency = metrics_.GetHistogram(
      "signpost_intake_submit_seconds", "Time from submission to durable acknowledgement",
      metrics::LatencyBuckets(), {{"channel", ChannelName(channel)}});
  done = [done = std::move(done), &latency, started, this](absl::StatusOr<SubmitResult> r) {
    latency.Observe(absl::ToDoubleSeconds(clock_() - started));
    done(std::move(r));
  };

  v1::Referral referral = NormaliseReferral(std::move(submission.referral), started);
  Fingerprint fingerprint = FingerprintOf(referral, started, options_.dedup_retention);
  SenderIdentity sender = FilledFrom(SenderOf(referral), submission.sender);
  int64_t unlisted = 0;
  auto violations = ValidateReferral(referral, started, options_.limits, &unlisted);
  if (!violations.empty()) {
    CountRejectedFields(channel, violations);
    Count(channel, labels_.Of(referral.source_system()), "rejected");
    Reject(sender, fingerprint.content, ValidationStatus(violations, unlisted), channel,
           submission.traceparent, submission.sent_at, std::move(done));
    return;
  }

  auto attempt = std::make_shared<Attempt>();
  attempt->result.priority = AssessPriority(referral, options_.priority);
  attempt->key = {referral.source_system(), referral.source_referral_id()};
  attempt->referral = std::move(referral);
  attempt->fingerprint = std::move(fingerprint);
  attempt->sender = std::move(sender);
  attempt->owner = events::NewEventId();
  attempt->channel = channel;
  attempt->traceparent = std::move(submission.traceparent);
  attempt->sent_at = submission.sent_at;
  attempt->give_up = std::min(wall_started + options_.in_progress_wait,
                              AnswerBy(wall_started, submission.deadline));
  attempt->done = std::move(done);
  // Built before the claim, so that a submission seen first is claimed and its event recorded in
  // one round trip (a duplicate's is built for nothing: duplicates are the rarer case).
  attempt->proposal.referral_id = absl::StrCat("ref-", events::NewEventId());
  absl::StatusOr<v1::Event> proposed = ReceivedEventOf(*attempt, attempt->proposal.referral_id);
  if (!proposed.ok()) {
    Count(channel, labels_.Of(attempt->key.source_system), "unavailable");
    attempt->done(
        absl::InternalError(absl::StrCat("referral not accepted: ", proposed.status().message())));
    return;
  }
  attempt->proposal.event = proposed->SerializeAsString();
  attempt->proposed_event = *std::move(proposed);
  TryToClaim(std::move(attempt));
}

void Submitter::TryToClaim(std::shared_ptr<Attempt> attempt) {
  // The first look offers the proposed event with the claim. A look again (the submission was
  // held by another attempt, which all but always publishes it) offers the referral id alone:
  // should the submission be seen first after all, the event is recorded as after a takeover.
  attempt->event_offered = !attempt->answered;
  switch (claims_.Push(attempt)) {
    case BatchQueue<std::shared_ptr<Attempt>>::Pushed::kQueued:
      return;
    case BatchQueue<std::shared_ptr<Attempt>>::Pushed::kFull:
      Count(attempt->channel, labels_.Of(attempt->key.source_system), "at_capacity");
      attempt->done(absl::ResourceExhaustedError(absl::StrCat(
          "intake is at capacity (", options_.max_queued_claims,
          " submissions already wait for the submission store); nothing new was recorded: retry "
          "with backoff")));
      return;
    case BatchQueue<std::shared_ptr<Attempt>>::Pushed::kStopping:
      Count(attempt->channel, labels_.Of(attempt->key.source_system), "unavailable");
      attempt->done(absl::UnavailableError(
          "intake is stopping; nothing new was recorded: retry the submission"));
      return;
  }
}

void Submitter::ClaimTogether(std::vector<std::shared_ptr<Attempt>>& attempts) {
  // A waiting submission answered meanwhile (given up on, or intake stopping) is not claimed: its
  // caller has been told to retry, and a claim now could only publish behind its back.
  std::erase_if(attempts, [](const std::shared_ptr<Attempt>& a) {
    return a->answered != nullptr && a->answered->load();
  });
  if (attempts.empty()) return;
  std::vector<Proposal> bare;  // what a look again offers; reserved, so that none moves
  bare.reserve(attempts.size());
  std::vector<ClaimRequest> requests;
  requests.reserve(attempts.size());
  for (const auto& a : attempts) {
    const Proposal& offered =
        a->event_offered ? a->proposal : bare.emplace_back(Proposal{a->proposal.referral_id, ""});
    requests.push_back({a->key, a->fingerprint, offered, a->owner});
  }
  std::vector<absl::StatusOr<Claim>> claims =
      submissions_.TryClaimMany(requests, clock_(), options_.lease);
  if (claims.size() != attempts.size()) {  // a store's bug; no claim can be told from another
    claims.assign(attempts.size(),
                  absl::InternalError(absl::StrCat("submission store answered ", claims.size(),
                                                   " claims of ", attempts.size())));
  }
  for (size_t i = 0; i < attempts.size(); ++i) {
    Claimed(std::move(attempts[i]), std::move(claims[i]));
  }
}

void Submitter::Claimed(std::shared_ptr<Attempt> attempt, absl::StatusOr<Claim> claim) {
  const SubmissionKey& key = attempt->key;
  if (!claim.ok()) {
    Count(attempt->channel, labels_.Of(key.source_system), "unavailable");
    attempt->done(
        absl::UnavailableError(absl::StrCat("submission store: ", claim.status().message())));
    return;
  }
  attempt->result.referral_id = claim->referral_id;
  switch (claim->kind) {
    case Claim::Kind::kClaimed:
      PublishClaimed(std::move(attempt), *std::move(claim));
      return;
    case Claim::Kind::kDuplicate:
      attempt->result.duplicate = true;
      Count(attempt->channel, labels_.Of(key.source_system), "duplicate");
      attempt->done(std::move(attempt->result));
      return;
    case Claim::Kind::kConflict: {
      Count(attempt->channel, labels_.Of(key.source_system), "conflict");
      absl::Status conflict = absl::AlreadyExistsError(absl::StrCat(
          "source_referral_id: ", key.source_system, " already submitted '", key.source_referral_id,
          "' with different content (referral ", claim->referral_id,
          "); submit a change as a new referral, or withdraw the first"));
      Reject(attempt->sender, attempt->fingerprint.content, conflict, attempt->channel,
             attempt->traceparent, attempt->sent_at, std::move(attempt->done));
      return;
    }
    case Claim::Kind::kInProgress:
      break;
  }
  // Another attempt holds this very submission: most often one publishing it now, which is done
  // in milliseconds; or one that died holding it, whose hold runs out only with its lease. Look
  // again a little later, on a re-check thread (nothing waits on a worker), until just before the
  // caller stops waiting.
  attempt->held_until_ms.store(absl::ToUnixMillis(claim->held_until));
  if (absl::Now() >= attempt->give_up) {
    Count(attempt->channel, labels_.Of(key.source_system), "unavailable");
    attempt->done(StillHeld(key, claim->held_until));
    return;
  }
  if (!attempt->answered && !StartWaiting(attempt)) {
    Count(attempt->channel, labels_.Of(key.source_system), "at_capacity");
    attempt->done(absl::ResourceExhaustedError(absl::StrCat(
        "intake is at capacity (", options_.max_waiting,
        " submissions already wait on other attempts); an identical submission (",
        key.source_system, "/", key.source_referral_id,
        ") is being published by another attempt; nothing new was recorded: retry with backoff, "
        "and the same referral id is returned")));
    return;
  }
  LookAgainLater(attempt);
}

absl::Status Submitter::StillHeld(const SubmissionKey& key, absl::Time held_until) {
  std::string when;
  if (absl::Time now = clock_(); held_until > now) {
    when = absl::StrCat(" (should that attempt have failed, its hold runs out at ",
                        absl::FormatTime(absl::RFC3339_sec, held_until, absl::UTCTimeZone()),
                        ", in ", absl::ToInt64Seconds(held_until - now) + 1, " s)");
  }
  return absl::UnavailableError(absl::StrCat(
      "an identical submission (", key.source_system, "/", key.source_referral_id,
      ") is still being published by another attempt", when,
      "; nothing new was recorded: retry later with the same content, and the same referral id "
      "is returned"));
}

bool Submitter::StartWaiting(const std::shared_ptr<Attempt>& attempt) {
  if (waiting_.fetch_add(1) >= options_.max_waiting) {
    waiting_.fetch_sub(1);
    return false;
  }
  auto answered = std::make_shared<std::atomic<bool>>(false);
  Done done = std::move(attempt->done);
  attempt->answered = answered;
  // Given up on at give_up by the timer itself, whatever a look under way is waiting for (a slow
  // store): the caller hears before its deadline. The timer reads only what no look changes.
  attempt->give_up_timer =
      rechecks_.At(attempt->give_up, [this, answered, done, attempt, key = attempt->key,
                                      channel = attempt->channel](bool stopping) {
        if (answered->exchange(true)) return;
        waiting_.fetch_sub(1);
        if (stopping) {
          done(absl::UnavailableError(
              "intake is stopping; nothing new was recorded: retry the submission"));
          return;
        }
        Count(channel, labels_.Of(key.source_system), "unavailable");
        done(StillHeld(key, absl::FromUnixMillis(attempt->held_until_ms.load())));
      });
  // Whichever answers first, a look or the timer, answers; the other is not heard. A look that
  // answers takes the timer away, so that only submissions still waiting are kept.
  attempt->done = [this, answered, done,
                   timer = attempt->give_up_timer](absl::StatusOr<SubmitResult> result) {
    if (answered->exchange(true)) return;
    rechecks_.Cancel(timer);
    waiting_.fetch_sub(1);
    done(std::move(result));
  };
  return true;
}

void Submitter::LookAgainLater(const std::shared_ptr<Attempt>& attempt) {
  absl::Time next = std::min(absl::Now() + attempt->next_look, attempt->give_up);
  attempt->next_look = std::min(attempt->next_look * 2, absl::Milliseconds(500));
  rechecks_.At(next, [this, attempt](bool stopping) {
    // Stopping: the timer answers it. Answered: nothing more to look at.
    if (stopping || attempt->answered->load()) return;
    bool queued = recheck_workers_->TrySchedule([this, attempt] {
      if (!attempt->answered->load()) TryToClaim(attempt);
    });
    if (!queued) {
      attempt->done(absl::UnavailableError(
          "intake is at capacity (every re-check thread busy); nothing new was recorded: retry "
          "with backoff, and the same referral id is returned"));
    }
  });
}

absl::StatusOr<v1::Event> Submitter::ReceivedEventOf(const Attempt& attempt,
                                                     const std::string& referral_id) {
  v1::Referral referral = attempt.referral;
  if (absl::Status sealed = cipher_.Seal(referral, referral_id); !sealed.ok()) return sealed;
  v1::Event event;
  auto* received = event.mutable_referral_received();
  *received->mutable_referral() = std::move(referral);
  received->set_priority(attempt.result.priority.urgency);
  received->set_channel(attempt.channel);
  for (const auto& reason : attempt.result.priority.reasons) received->add_priority_reasons(reason);
  events::Seal(event, referral_id, options_.producer_name, clock_(), attempt.traceparent);
  event.mutable_envelope()->set_event_id(ReceivedEventId(referral_id));
  return event;
}

void Submitter::FailAttempt(Attempt& attempt, absl::Status failure) {
  ToBookkeeping({false, std::move(failure), std::move(attempt.key), std::move(attempt.owner),
                 std::nullopt, attempt.channel, std::move(attempt.result),
                 std::move(attempt.done)});
}

void Submitter::PublishClaimed(std::shared_ptr<Attempt> attempt, Claim claim) {
  const std::string& referral_id = claim.referral_id;
  if (claim.proposal_taken && attempt->event_offered) {
    // Seen first now: the proposed event was recorded with the claim.
    v1::Event event = std::move(attempt->proposed_event);
    std::string bytes = std::move(attempt->proposal.event);
    Publish(std::move(attempt), std::move(event), std::move(bytes));
    return;
  }
  std::string recorded_event = std::move(claim.recorded_event);
  if (recorded_event.empty()) {
    // Taken over from an attempt that recorded no event (or seen first on a look again, which
    // offered none): one is built under the referral id the submission has (the proposed one
    // is built already) and recorded before it can reach the broker, so that whatever becomes of
    // this send, every later attempt publishes these very bytes.
    std::string bytes;
    if (referral_id == attempt->proposal.referral_id) {
      bytes = std::move(attempt->proposal.event);
    } else {
      absl::StatusOr<v1::Event> built = ReceivedEventOf(*attempt, referral_id);
      if (!built.ok()) {
        // Nothing was published: the claim is released as after a failed send.
        FailAttempt(*attempt, absl::InternalError(absl::StrCat("referral not accepted: ",
                                                               built.status().message())));
        return;
      }
      bytes = built->SerializeAsString();
    }
    auto recorded = submissions_.RecordEvent(attempt->key, referral_id, std::move(bytes));
    if (!recorded.ok()) {
      FailAttempt(*attempt, absl::UnavailableError(
                                absl::StrCat("submission store: ", recorded.status().message())));
      return;
    }
    if (!recorded->has_value()) {  // another attempt published it meanwhile
      attempt->result.duplicate = true;
      Count(attempt->channel, labels_.Of(attempt->key.source_system), "duplicate");
      attempt->done(std::move(attempt->result));
      return;
    }
    recorded_event = **std::move(recorded);
  }
  v1::Event event;
  if (!event.ParseFromString(recorded_event) || !event.has_referral_received() ||
      event.envelope().referral_id() != referral_id) {
    FailAttempt(*attempt, absl::DataLossError(
                              absl::StrCat("the received event recorded for referral ", referral_id,
                                           " (submission ", attempt->key.source_system, "/",
                                           attempt->key.source_referral_id, ") is not one")));
    return;
  }
  Publish(std::move(attempt), std::move(event), std::move(recorded_event));
}

void Submitter::Publish(std::shared_ptr<Attempt> attempt, v1::Event event, std::string bytes) {
  const std::string referral_id = attempt->result.referral_id;
  // The caller hears the priority published, whichever attempt decided it.
  attempt->result.priority.urgency = event.referral_received().priority();
  attempt->result.priority.reasons.assign(event.referral_received().priority_reasons().begin(),
                                          event.referral_received().priority_reasons().end());
  kafka::OutgoingMessage message = events::ToMessage(
      event, kafka::TopicName(kafka::Topic::kReferralReceived, options_.topic_prefix), referral_id);
  message.value = std::move(bytes);  // the bytes recorded, not a serialization of them

  producer_.SendAsync(std::move(message), [this, event = std::move(event),
                                           attempt = std::move(attempt)](absl::Status sent) {
    if (!sent.ok()) {
      // The claim is released (off this thread) so that a retry can claim the submission again
      // at once; it publishes the same event (the send may have reached the broker all the
      // same). Only an unreachable broker is worth retrying as it is; anything else is the
      // internal error it is.
      FailAttempt(
          *attempt,
          sent.code() == absl::StatusCode::kUnavailable
              ? absl::UnavailableError(absl::StrCat("referral not accepted: ", sent.message()))
              : absl::InternalError(absl::StrCat("referral not accepted: ", sent.message())));
      return;
    }
    ToBookkeeping({true, absl::OkStatus(), std::move(attempt->key), std::move(attempt->owner),
                   ProjectStatus(event), attempt->channel, std::move(attempt->result),
                   std::move(attempt->done)});
  });
}

void Submitter::Reject(const SenderIdentity& sender, const std::string& input_digest,
                       absl::Status status, v1::SubmissionChannel channel,
                       const std::string& traceparent, absl::Time sent_at, Done done) {
  v1::Event event = RejectionEvent(sender, status, channel);
  SealRejection(event, input_digest, options_.producer_name, sent_at, clock_(), traceparent);
  auto message = events::ToMessage(
      event, kafka::TopicName(kafka::Topic::kReferralRejected, options_.topic_prefix),
      RejectionKey(sender));
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

absl::Status Submitter::RejectUnreadable(const std::string& kafka_key, const std::string& bytes,
                                         const SenderIdentity& sender, const absl::Status& why,
                                         v1::SubmissionChannel channel, absl::Time sent_at,
                                         const std::string& traceparent) {
  Count(channel, labels_.Of(sender.source_system), "rejected");
  CountRejectedFields(channel, ViolationsOf(why));
  v1::Event event = RejectionEvent(sender, why, channel);
  // The message as it came: a redelivery of it is the same rejection.
  std::string input_digest = Sha256Hex(absl::StrCat(kafka_key.size(), ":", kafka_key, bytes));
  SealRejection(event, input_digest, options_.producer_name, sent_at, clock_(), traceparent);
  return producer_.Send(events::ToMessage(
      event, kafka::TopicName(kafka::Topic::kReferralRejected, options_.topic_prefix),
      RejectionKey(sender)));
}

absl::StatusOr<v1::GetReferralResponse> Submitter::GetStatus(const v1::GetReferralRequest& request,
                                                             const MaySee& may_see) {
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
  if (status->has_value()) {
    if (may_see) {
      if (absl::Status allowed = may_see((*status)->referrer_ods_code()); !allowed.ok()) {
        return allowed;
      }
    }
    return **status;
  }
  auto released = statuses_.Released(referral_id);
  if (!released.ok()) return absl::UnavailableError(released.status().message());
  if (!released->has_value()) {
    return absl::NotFoundError(absl::StrCat("no referral '", referral_id, "'"));
  }
  if (may_see) {
    if (absl::Status allowed = may_see((*released)->referrer_ods_code); !allowed.ok()) {
      return allowed;
    }
  }
  // Not NOT_FOUND: the id is right, and asking again will not bring the view back.
  return absl::FailedPreconditionError(
      absl::StrCat("referral ", referral_id, " is no longer held: its status expires ",
                   absl::ToInt64Hours(options_.status_retention) / 24,
                   " days after the referral was closed, withdrawn or rejected (expired ",
                   absl::FormatTime("%Y-%m-%d", (*released)->expired_at, absl::UTCTimeZone()),
                   "); its events remain on the Signpost topics"));
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

#include "services/followup/case_workflow.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/events/event_envelope.h"
#include "common/events/timestamp.h"
#include "common/events/unrouted.h"
#include "common/status/field_violations.h"
#include "services/followup/case_access.h"
#include "services/followup/case_state_machine.h"
#include "services/followup/message_back_codes.h"
#include "services/followup/outcome_validation.h"

namespace signpost::followup {
namespace {

using events::FromTimestamp;
using events::ToTimestamp;

std::string NeedName(v1::NeedCategory need) {
  return absl::AsciiStrToLower(absl::StripPrefix(v1::NeedCategory_Name(need), "NEED_CATEGORY_"));
}

std::string FeedbackName(v1::FeedbackKind kind) {
  return absl::AsciiStrToLower(absl::StripPrefix(v1::FeedbackKind_Name(kind), "FEEDBACK_KIND_"));
}

std::string DayOf(absl::Time time, absl::TimeZone zone) {
  return absl::FormatTime("%a %e %b %H:%M", time, zone);
}

std::string FirstContactTaskId(const std::string& rid) { return rid + "/first-contact"; }
std::string AtRiskTimerId(const std::string& rid) { return rid + "/first-contact-at-risk"; }
std::string BreachTimerId(const std::string& rid) { return rid + "/first-contact-breached"; }
std::string CheckInId(const std::string& rid, int n) { return absl::StrCat(rid, "/check-in-", n); }

// How many case events a case keeps in its history: enough for the whole of a usual case, and a
// bound on what a long one adds to every load and answer.
constexpr int kHistoryLength = 50;

// Builds one CaseChange: the case at its next version plus what follows from it.
class ChangeBuilder {
 public:
  ChangeBuilder(const WorkflowOptions& options, const LoadedCase* current, absl::Time now,
                std::string causation = "")
      : options_(options), now_(now), causation_(std::move(causation)) {
    if (current != nullptr) {
      change_.expected_version = current->kase.version();
      change_.after = current->kase;
      open_tasks_ = current->open_tasks;
    }
    change_.after.set_version(change_.expected_version + 1);
    *change_.after.mutable_updated_at() = ToTimestamp(now);
  }

  v1::Case& kase() { return change_.after; }
  CaseChange& change() { return change_; }
  const std::vector<v1::Task>& open_tasks() const { return open_tasks_; }

  void AddTask(const std::string& id, v1::TaskKind kind, absl::Time due, std::string summary) {
    v1::Task task;
    task.set_id(id);
    task.set_referral_id(kase().referral_id());
    task.set_link_worker_id(kase().link_worker_id());
    task.set_network_id(kase().network_id());
    task.set_kind(kind);
    task.set_status(v1::TASK_STATUS_OPEN);
    *task.mutable_created_at() = ToTimestamp(now_);
    *task.mutable_due_at() = ToTimestamp(due);
    task.set_summary(std::move(summary));
    kase().add_open_task_ids(id);
    open_tasks_.push_back(task);
    WriteTask(task, "");
  }

  // Ends open tasks (all of them, or those `which` selects) with `status`.
  template <typename Predicate>
  void EndTasks(v1::TaskStatus status, Predicate which) {
    std::vector<v1::Task> still_open;
    for (v1::Task task : open_tasks_) {
      if (!which(task)) {
        still_open.push_back(task);
        continue;
      }
      task.set_status(status);
      WriteTask(task, "");
    }
    open_tasks_ = still_open;
    kase().clear_open_task_ids();
    for (const auto& task : open_tasks_) kase().add_open_task_ids(task.id());
  }

  void MoveOpenTasks(const std::string& to_link_worker) {
    for (v1::Task& task : open_tasks_) {
      std::string previous = QueueOf(task);
      task.set_link_worker_id(to_link_worker);
      WriteTask(task, previous);
    }
  }

  void AddTimer(const std::string& id, v1::FollowUpTimer::Kind kind, absl::Time due,
                int sequence = 0) {
    v1::FollowUpTimer timer;
    timer.set_id(id);
    timer.set_referral_id(kase().referral_id());
    timer.set_kind(kind);
    *timer.mutable_due_at() = ToTimestamp(due);
    timer.set_sequence(sequence);
    change_.timers_to_add.push_back(timer);
  }

  void CancelTimers(std::vector<std::string> ids) {
    for (auto& id : ids) change_.timers_to_cancel.push_back(std::move(id));
  }

  v1::CaseEvent& CaseEvent(v1::CaseState from, v1::CaseState to, const std::string& actor,
                           std::string reason) {
    v1::Event event;
    v1::CaseEvent* body = event.mutable_case_event();
    body->set_from_state(from);
    body->set_to_state(to);
    body->set_link_worker_id(kase().link_worker_id());
    body->set_network_id(kase().network_id());
    body->set_actor(actor);
    body->set_reason(std::move(reason));
    body->set_referrer_ods_code(kase().referrer_ods_code());
    body->set_case_version(kase().version());
    Emit(kafka::Topic::kFollowupEvents, kase().referral_id(), std::move(event),
         absl::StrCat("case.event:", kase().referral_id(), ":", kase().version()));
    return *change_.events.back().event.mutable_case_event();
  }

  // One message back per kind; `of` tells apart several of one kind (each connection names its
  // resource), so each has its own idempotency key and event id. It carries the PRSB content of
  // the step as the case now is, and the step's code for the GP record.
  v1::ReferrerFeedback& Feedback(v1::FeedbackKind kind, std::string summary,
                                 const std::string& of = "",
                                 v1::ClosureReason reason = v1::CLOSURE_REASON_UNSPECIFIED) {
    v1::Event event;
    v1::ReferrerFeedback* body = event.mutable_referrer_feedback();
    body->set_referrer_ods_code(kase().referrer_ods_code());
    body->set_source_system(kase().source_system());
    body->set_source_referral_id(kase().source_referral_id());
    body->set_kind(kind);
    body->set_summary(std::move(summary));
    body->set_closure_reason(reason);
    MessageBackStep step = StepOf(kind, reason);
    if (step.code.system() == kSnomedSystem) body->add_snomed_codes(step.code.code());
    v1::PrsbMessageBack* back = body->mutable_message_back();
    back->set_step(step.step);
    *back->mutable_step_code() = std::move(step.code);
    for (const std::string& id : kase().connected_resource_ids())
      *back->add_support_offered() = SupportFor(id);
    back->set_contact_attempts(kase().contact_attempts());
    back->set_person_reached(kase().reached());
    back->set_link_worker_id(kase().link_worker_id());
    back->set_network_id(kase().network_id());
    back->set_outcomes(v1::OUTCOMES_SHARING_NOT_AT_THIS_STEP);
    if (kase().has_created_at()) *back->mutable_case_opened_at() = kase().created_at();
    body->set_idempotency_key(
        absl::StrCat(kase().referral_id(), ":", FeedbackName(kind), of.empty() ? "" : ":", of));
    std::string name = absl::StrCat("referrer.feedback:", body->idempotency_key());
    Emit(kafka::Topic::kReferrerFeedback, kase().referrer_ods_code(), std::move(event), name);
    return *change_.events.back().event.mutable_referrer_feedback();
  }

  // The change, with the case events it emits added to the case's history (callers fill in an
  // event's detail on the reference CaseEvent returns, so they are copied only now).
  CaseChange Finish() {
    auto* history = change_.after.mutable_history();
    for (const OutgoingEvent& outgoing : change_.events) {
      if (!outgoing.event.has_case_event()) continue;
      v1::CaseHistoryEntry* entry = history->Add();
      *entry->mutable_at() = ToTimestamp(now_);
      *entry->mutable_event() = outgoing.event.case_event();
    }
    if (history->size() > kHistoryLength) {
      history->DeleteSubrange(0, history->size() - kHistoryLength);
    }
    return std::move(change_);
  }

 private:
  // A connected resource as the case's matches name it, with the need it was matched for.
  v1::SupportOffered SupportFor(const std::string& resource_id) {
    v1::SupportOffered support;
    support.set_resource_id(resource_id);
    for (const auto& need : kase().needs()) {
      for (const auto& option : need.options()) {
        if (option.resource_id() != resource_id || !support.resource_name().empty()) continue;
        support.set_resource_name(option.resource_name());
        support.set_need(NeedName(need.need().category()));
      }
    }
    return support;
  }

  void WriteTask(const v1::Task& task, std::string previous_queue) {
    change_.tasks.push_back({task, std::move(previous_queue)});
    v1::Event event;
    *event.mutable_task_event()->mutable_task() = task;
    Emit(kafka::Topic::kFollowupEvents, kase().referral_id(), std::move(event),
         absl::StrCat("task.event:", task.id(), ":", kase().version(), ":", change_.events.size()));
  }

  void Emit(kafka::Topic topic, std::string key, v1::Event event, const std::string& id_name) {
    events::Seal(event, kase().referral_id(), options_.producer, now_, kase().trace_parent(),
                 causation_);
    event.mutable_envelope()->set_event_id(events::NameBasedEventId(id_name));
    change_.events.push_back({topic, std::move(key), std::move(event)});
  }

  const WorkflowOptions& options_;
  absl::Time now_;
  std::string causation_;
  CaseChange change_;
  std::vector<v1::Task> open_tasks_;
};

absl::Status CheckNote(const std::string& field, const std::string& text, size_t limit) {
  if (text.size() > limit) {
    return InvalidArgumentWithViolations(
        {{field, absl::StrCat("longer than ", limit, " characters")}});
  }
  return absl::OkStatus();
}

absl::Status CheckOpen(const v1::Case& kase) {
  if (IsTerminal(kase.state())) return CheckTransition(kase.state(), kase.state());
  return absl::OkStatus();
}

bool IsSlaTask(const v1::Task& task) {
  return task.kind() == v1::TASK_KIND_SLA_AT_RISK || task.kind() == v1::TASK_KIND_SLA_BREACHED;
}

}  // namespace

CaseWorkflow::CaseWorkflow(WorkflowOptions options) : options_(std::move(options)) {}

std::vector<std::string> CaseWorkflow::TimerIds(const std::string& referral_id) const {
  std::vector<std::string> ids = {AtRiskTimerId(referral_id), BreachTimerId(referral_id)};
  for (size_t i = 1; i <= options_.deadlines.check_ins.size(); ++i) {
    ids.push_back(CheckInId(referral_id, static_cast<int>(i)));
  }
  return ids;
}

absl::StatusOr<CaseChange> CaseWorkflow::Open(const v1::Event& matched, absl::Time now) const {
  if (!matched.has_referral_matched() || matched.envelope().referral_id().empty()) {
    return absl::InvalidArgumentError("not a referral.matched event with a referral id");
  }
  const v1::ReferralMatched& match = matched.referral_matched();
  const v1::Referral& referral = match.referral();
  // The match's time, not the clock: a redelivered event computes the same deadlines.
  absl::Time assigned_at = FromTimestamp(matched.envelope().occurred_at());
  ChangeBuilder b(options_, nullptr, now, matched.envelope().event_id());
  v1::Case& kase = b.kase();
  kase.set_referral_id(matched.envelope().referral_id());
  kase.set_state(v1::CASE_STATE_ASSIGNED);
  kase.set_link_worker_id(match.link_worker_id());
  kase.set_network_id(match.network_id());
  kase.set_referrer_ods_code(referral.referrer().ods_code());
  kase.set_source_system(referral.source_system());
  kase.set_source_referral_id(referral.source_referral_id());
  kase.set_priority(match.priority());
  *kase.mutable_identity() = referral.identity();
  kase.set_referral_notes(referral.notes());
  *kase.mutable_profile() = referral.profile();
  kase.set_sharing_consent(referral.consent().sharing_consent());
  *kase.mutable_needs() = match.needs();
  *kase.mutable_created_at() = ToTimestamp(assigned_at);
  kase.set_trace_parent(matched.envelope().trace().traceparent());

  absl::Time due = FirstContactDue(options_.deadlines, assigned_at, match.priority());
  *kase.mutable_first_contact_due() = ToTimestamp(due);
  std::vector<std::string> needs;
  for (const auto& need : match.needs()) needs.push_back(NeedName(need.need().category()));
  bool priority = match.priority() == v1::URGENCY_PRIORITY;
  std::string what = absl::StrCat(needs.size(), needs.size() == 1 ? " need (" : " needs (",
                                  absl::StrJoin(needs, ", "), ")");
  // No network lists the referring practice: the region's coordinator routes it, and the GP is
  // told so, not that a network's team has it.
  const bool unrouted =
      kase.link_worker_id().empty() &&
      (kase.network_id().empty() || kase.network_id() == events::kUnroutedNetworkId);
  const std::string unlisted =
      absl::StrCat("no primary care network in Signpost lists practice ", kase.referrer_ods_code());
  b.AddTask(
      FirstContactTaskId(kase.referral_id()), v1::TASK_KIND_FIRST_CONTACT, due,
      absl::StrCat(
          unrouted ? absl::StrCat("Unrouted (", unlisted, "): reassign to a link worker; ") : "",
          priority ? "Priority referral: first" : "First", " contact; ", what, "; due ",
          DayOf(due, options_.deadlines.zone)));
  b.AddTimer(AtRiskTimerId(kase.referral_id()), v1::FollowUpTimer::KIND_FIRST_CONTACT_AT_RISK,
             FirstContactAtRisk(options_.deadlines, assigned_at, due));
  b.AddTimer(BreachTimerId(kase.referral_id()), v1::FollowUpTimer::KIND_FIRST_CONTACT_BREACHED,
             due);

  b.CaseEvent(v1::CASE_STATE_UNSPECIFIED, v1::CASE_STATE_ASSIGNED, "system",
              absl::StrJoin(match.assignment_reasons(), "; "));
  b.Feedback(v1::FEEDBACK_KIND_ACCEPTED,
             absl::StrCat("Accepted by the social prescribing service",
                          priority ? " as a priority" : "", "; ", what,
                          unrouted ? absl::StrCat("; ", unlisted,
                                                  ": the referral is held on the regional "
                                                  "unrouted queue and a coordinator will route it "
                                                  "to a link worker")
                                   : ""));
  const std::string due_by =
      absl::StrCat("first contact due by ", DayOf(due, options_.deadlines.zone));
  std::string where;
  if (unrouted) {
    where = absl::StrCat("Held on the regional unrouted queue: ", unlisted,
                         "; a coordinator will route it to a link worker; ", due_by);
  } else if (kase.link_worker_id().empty()) {
    where = absl::StrCat("Placed on the team queue of network ", kase.network_id(),
                         ": no link worker has room yet; ", due_by);
  } else {
    where = absl::StrCat("Assigned to a link worker in network ", kase.network_id(), "; ", due_by);
  }
  b.Feedback(v1::FEEDBACK_KIND_ASSIGNED, std::move(where));
  return b.Finish();
}

absl::StatusOr<CaseChange> CaseWorkflow::Withdraw(const std::optional<LoadedCase>& current,
                                                  const v1::Event& withdrawn,
                                                  absl::Time now) const {
  if (!withdrawn.has_referral_withdrawn() || withdrawn.envelope().referral_id().empty()) {
    return absl::InvalidArgumentError("not a referral.withdrawn event with a referral id");
  }
  const v1::ReferralWithdrawn& w = withdrawn.referral_withdrawn();
  ChangeBuilder b(options_, current ? &*current : nullptr, now, withdrawn.envelope().event_id());
  v1::Case& kase = b.kase();
  v1::CaseState from = v1::CASE_STATE_UNSPECIFIED;
  if (current) {
    from = kase.state();
    if (absl::Status s = CheckTransition(from, v1::CASE_STATE_WITHDRAWN); !s.ok()) return s;
    b.EndTasks(v1::TASK_STATUS_CANCELLED, [](const v1::Task&) { return true; });
    b.CancelTimers(TimerIds(kase.referral_id()));
  } else {
    kase.set_referral_id(withdrawn.envelope().referral_id());
    kase.set_referrer_ods_code(w.referrer_ods_code());
    kase.set_source_system(w.source_system());
    kase.set_source_referral_id(w.source_referral_id());
    *kase.mutable_created_at() = ToTimestamp(now);
    kase.set_trace_parent(withdrawn.envelope().trace().traceparent());
  }
  kase.set_state(v1::CASE_STATE_WITHDRAWN);
  kase.set_closure_reason(v1::CLOSURE_REASON_WITHDRAWN);
  // Withdrawal ends the service's need for the person's details, whatever the reason.
  kase.clear_identity();
  kase.clear_referral_notes();
  kase.clear_sealed_details();
  kase.clear_profile();
  kase.clear_plan();
  kase.clear_baseline();
  kase.clear_latest();
  // The scores again, as the history's outcome events hold them; what happened when stays.
  for (v1::CaseHistoryEntry& entry : *kase.mutable_history()) {
    if (entry.event().has_outcome()) entry.mutable_event()->clear_outcome();
  }
  kase.set_personal_data_purged(true);
  b.CaseEvent(from, v1::CASE_STATE_WITHDRAWN,
              w.withdrawn_by().empty() ? "referrer" : w.withdrawn_by(),
              absl::StrCat("withdrawn: ",
                           absl::AsciiStrToLower(absl::StripPrefix(
                               v1::WithdrawalReason_Name(w.reason()), "WITHDRAWAL_REASON_"))))
      .set_closure_reason(v1::CLOSURE_REASON_WITHDRAWN);
  if (!kase.referrer_ods_code().empty()) {
    b.Feedback(v1::FEEDBACK_KIND_WITHDRAWN,
               "Withdrawn: open tasks cancelled and the person's details removed from follow-up",
               "", v1::CLOSURE_REASON_WITHDRAWN);
  }
  return b.Finish();
}

absl::StatusOr<CaseChange> CaseWorkflow::RecordContact(const LoadedCase& current,
                                                       const v1::RecordContactRequest& request,
                                                       absl::Time now) const {
  if (request.result() == v1::CONTACT_RESULT_UNSPECIFIED ||
      !v1::ContactResult_IsValid(request.result())) {
    return InvalidArgumentWithViolations(
        {{"result", "required: reached, no answer, wrong number or left message"}});
  }
  if (absl::Status s = CheckNote("note", request.note(), 2000); !s.ok()) return s;
  ChangeBuilder b(options_, &current, now);
  v1::Case& kase = b.kase();
  v1::CaseState from = kase.state();
  v1::CaseState to = from == v1::CASE_STATE_ASSIGNED ? v1::CASE_STATE_CONTACTING : from;
  if (absl::Status s = CheckTransition(from, to); !s.ok()) return s;
  kase.set_state(to);
  kase.set_contact_attempts(kase.contact_attempts() + 1);
  bool first_reach = request.result() == v1::CONTACT_RESULT_REACHED && !kase.reached();
  if (first_reach) {
    kase.set_reached(true);
    b.EndTasks(v1::TASK_STATUS_DONE, [](const v1::Task& t) {
      return t.kind() == v1::TASK_KIND_FIRST_CONTACT || IsSlaTask(t);
    });
    b.CancelTimers({AtRiskTimerId(kase.referral_id()), BreachTimerId(kase.referral_id())});
  }
  b.CaseEvent(from, to, request.link_worker_id(),
              absl::StrCat("contact attempt ", kase.contact_attempts()))
      .set_contact_result(request.result());
  if (first_reach) {
    b.Feedback(v1::FEEDBACK_KIND_FIRST_CONTACT,
               absl::StrCat("First contact made by the link worker after ", kase.contact_attempts(),
                            kase.contact_attempts() == 1 ? " attempt" : " attempts"));
  }
  return b.Finish();
}

absl::StatusOr<CaseChange> CaseWorkflow::AgreePlan(const LoadedCase& current,
                                                   const v1::AgreePlanRequest& request,
                                                   absl::Time now) const {
  if (request.plan().empty()) {
    return InvalidArgumentWithViolations({{"plan", "required: what matters to the person"}});
  }
  if (absl::Status s = CheckNote("plan", request.plan(), 8000); !s.ok()) return s;
  ChangeBuilder b(options_, &current, now);
  v1::Case& kase = b.kase();
  v1::CaseState from = kase.state();
  if (absl::Status s = CheckTransition(from, v1::CASE_STATE_ENGAGED); !s.ok()) return s;
  if (!kase.reached()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the case is ", StateName(from), " and no contact has reached the person yet"));
  }
  kase.set_state(v1::CASE_STATE_ENGAGED);
  kase.set_plan(request.plan());
  b.CaseEvent(from, v1::CASE_STATE_ENGAGED, request.link_worker_id(), "plan agreed");
  return b.Finish();
}

absl::StatusOr<CaseChange> CaseWorkflow::RecordConnection(
    const LoadedCase& current, const v1::RecordConnectionRequest& request, absl::Time now) const {
  if (request.resource_id().empty()) {
    return InvalidArgumentWithViolations({{"resource_id", "required"}});
  }
  const v1::MatchedOption* chosen = nullptr;
  for (const auto& need : current.kase.needs()) {
    for (const auto& option : need.options()) {
      if (option.resource_id() == request.resource_id()) chosen = &option;
    }
  }
  if (chosen == nullptr) {
    return InvalidArgumentWithViolations(
        {{"resource_id",
          absl::StrCat("'", request.resource_id(), "' is not one of the case's matched options")}});
  }
  ChangeBuilder b(options_, &current, now);
  v1::Case& kase = b.kase();
  v1::CaseState from = kase.state();
  // A case with several needs connects once per need; one already in follow-up stays there.
  v1::CaseState to = from == v1::CASE_STATE_FOLLOW_UP ? from : v1::CASE_STATE_CONNECTED;
  if (absl::Status s = CheckTransition(from, to); !s.ok()) return s;
  for (const auto& connected : kase.connected_resource_ids()) {
    if (connected == request.resource_id()) {
      return absl::AlreadyExistsError(absl::StrCat("resource_id: the case is already connected to ",
                                                   chosen->resource_name(), " (",
                                                   request.resource_id(), ")"));
    }
  }
  // The check-ins count from the first connection: a later one neither moves nor repeats them.
  const bool first_connection = kase.connected_resource_ids().empty();
  kase.set_state(to);
  kase.add_connected_resource_ids(request.resource_id());
  const auto& check_ins = options_.deadlines.check_ins;
  for (size_t i = 0; first_connection && i < check_ins.size(); ++i) {
    int n = static_cast<int>(i) + 1;
    b.AddTimer(CheckInId(kase.referral_id(), n), v1::FollowUpTimer::KIND_FOLLOW_UP_CHECK_IN,
               now + check_ins[i], n);
  }
  b.CaseEvent(from, to, request.link_worker_id(),
              absl::StrCat("connected to ", chosen->resource_name()))
      .set_connected_resource_id(request.resource_id());
  b.Feedback(
      v1::FEEDBACK_KIND_CONNECTED,
      absl::StrCat("Connected to ", chosen->resource_name(), " (", request.resource_id(), ")"),
      request.resource_id());
  return b.Finish();
}

absl::StatusOr<CaseChange> CaseWorkflow::RecordAttendance(
    const LoadedCase& current, const v1::RecordAttendanceRequest& request, absl::Time now) const {
  if (absl::Status s = CheckNote("note", request.note(), 2000); !s.ok()) return s;
  ChangeBuilder b(options_, &current, now);
  v1::Case& kase = b.kase();
  v1::CaseState from = kase.state();
  if (from != v1::CASE_STATE_CONNECTED && from != v1::CASE_STATE_FOLLOW_UP) {
    if (absl::Status s = CheckOpen(kase); !s.ok()) return s;
    return absl::FailedPreconditionError(absl::StrCat(
        "the case is ", StateName(from), ": attendance is recorded once it is CONNECTED"));
  }
  v1::CaseState to = request.attended() ? v1::CASE_STATE_FOLLOW_UP : from;
  if (absl::Status s = CheckTransition(from, to); !s.ok()) return s;
  kase.set_state(to);
  b.CaseEvent(from, to, request.link_worker_id(),
              request.attended() ? "attended" : "did not attend")
      .set_attended(request.attended());
  return b.Finish();
}

absl::StatusOr<CaseChange> CaseWorkflow::RecordOutcome(const LoadedCase& current,
                                                       const v1::RecordOutcomeRequest& request,
                                                       absl::Time now) const {
  std::vector<FieldViolation> violations = ValidateOutcome(request.measure(), "measure");
  if (!violations.empty()) return InvalidArgumentWithViolations(violations);
  ChangeBuilder b(options_, &current, now);
  v1::Case& kase = b.kase();
  if (absl::Status s = CheckOpen(kase); !s.ok()) return s;
  v1::OutcomeMeasure measure = request.measure();
  if (!measure.has_recorded_at()) *measure.mutable_recorded_at() = ToTimestamp(now);
  measure.set_baseline(!kase.has_baseline());
  if (measure.baseline()) {
    *kase.mutable_baseline() = measure;
  } else {
    *kase.mutable_latest() = measure;
  }
  *b.CaseEvent(kase.state(), kase.state(), request.link_worker_id(),
               measure.baseline() ? "baseline outcome measure" : "outcome measure")
       .mutable_outcome() = measure;
  return b.Finish();
}

absl::StatusOr<CaseChange> CaseWorkflow::Close(const LoadedCase& current,
                                               const v1::CloseCaseRequest& request,
                                               absl::Time now) const {
  v1::CaseState to = v1::CASE_STATE_UNSPECIFIED;
  switch (request.reason()) {
    case v1::CLOSURE_REASON_COMPLETED:
    case v1::CLOSURE_REASON_NO_SUITABLE_PROVISION:
      to = v1::CASE_STATE_CLOSED;
      break;
    case v1::CLOSURE_REASON_DECLINED:
      to = v1::CASE_STATE_DECLINED;
      break;
    case v1::CLOSURE_REASON_UNABLE_TO_CONTACT:
      to = v1::CASE_STATE_UNABLE_TO_CONTACT;
      break;
    case v1::CLOSURE_REASON_EXPIRED:
      to = v1::CASE_STATE_EXPIRED;
      break;
    case v1::CLOSURE_REASON_WITHDRAWN:
      return InvalidArgumentWithViolations(
          {{"reason", "withdrawal comes from the referrer: IntakeService.WithdrawReferral"}});
    default:
      return InvalidArgumentWithViolations({{"reason", "required: why the case closes"}});
  }
  if (absl::Status s = CheckNote("note", request.note(), 2000); !s.ok()) return s;
  ChangeBuilder b(options_, &current, now);
  v1::Case& kase = b.kase();
  v1::CaseState from = kase.state();
  if (absl::Status s = CheckTransition(from, to); !s.ok()) return s;
  kase.set_state(to);
  kase.set_closure_reason(request.reason());
  b.EndTasks(v1::TASK_STATUS_CANCELLED, [](const v1::Task&) { return true; });
  b.CancelTimers(TimerIds(kase.referral_id()));
  std::string reason = absl::AsciiStrToLower(
      absl::StripPrefix(v1::ClosureReason_Name(request.reason()), "CLOSURE_REASON_"));
  absl::StrReplaceAll({{"_", " "}}, &reason);
  b.CaseEvent(from, to, request.link_worker_id(), absl::StrCat("closed: ", reason))
      .set_closure_reason(request.reason());
  std::string summary = absl::StrCat("Closed: ", reason);
  if (!kase.connected_resource_ids().empty()) {
    absl::StrAppend(&summary, "; connected to ", kase.connected_resource_ids_size(),
                    kase.connected_resource_ids_size() == 1 ? " resource" : " resources");
  }
  v1::ReferrerFeedback& feedback =
      b.Feedback(v1::FEEDBACK_KIND_CLOSED, summary, "", request.reason());
  // Wellbeing scores go back to the GP record only with the person's consent to share.
  const bool recorded = kase.has_baseline() || kase.has_latest();
  if (kase.sharing_consent()) {
    if (kase.has_baseline()) *feedback.mutable_baseline() = kase.baseline();
    if (kase.has_latest()) *feedback.mutable_latest() = kase.latest();
  }
  feedback.mutable_message_back()->set_outcomes(!recorded ? v1::OUTCOMES_SHARING_NONE_RECORDED
                                                : kase.sharing_consent()
                                                    ? v1::OUTCOMES_SHARING_SHARED
                                                    : v1::OUTCOMES_SHARING_NOT_CONSENTED);
  return b.Finish();
}

absl::StatusOr<CaseChange> CaseWorkflow::Reassign(const LoadedCase& current,
                                                  const v1::ReassignCaseRequest& request,
                                                  absl::Time now) const {
  if (absl::Status s = CheckQueueName(request.to_link_worker_id()); !s.ok()) {
    return InvalidArgumentWithViolations(
        {{"to_link_worker_id", "required: the link worker who takes the case"}});
  }
  if (absl::StartsWith(request.to_link_worker_id(), "team:")) {
    return InvalidArgumentWithViolations(
        {{"to_link_worker_id", "a link worker, not a team queue"}});
  }
  if (request.to_link_worker_id() == current.kase.link_worker_id()) {
    return InvalidArgumentWithViolations({{"to_link_worker_id", "the case is already theirs"}});
  }
  if (absl::Status s = CheckNote("reason", request.reason(), 500); !s.ok()) return s;
  ChangeBuilder b(options_, &current, now);
  v1::Case& kase = b.kase();
  if (absl::Status s = CheckOpen(kase); !s.ok()) return s;
  std::string from_queue =
      kase.link_worker_id().empty() ? TeamQueue(kase.network_id()) : kase.link_worker_id();
  kase.set_link_worker_id(request.to_link_worker_id());
  b.MoveOpenTasks(request.to_link_worker_id());
  b.AddTask(
      absl::StrCat(kase.referral_id(), "/reassigned-", kase.version()),
      v1::TASK_KIND_REASSIGNED_CASE,
      AddWorkingDays(now, 1, options_.deadlines.holidays, options_.deadlines.zone),
      absl::StrCat("Case reassigned to you from ", from_queue, "; state ", StateName(kase.state()),
                   request.reason().empty() ? "" : absl::StrCat("; ", request.reason())));
  b.CaseEvent(kase.state(), kase.state(), request.link_worker_id(),
              absl::StrCat("reassigned from ", from_queue))
      .set_reassigned_to(request.to_link_worker_id());
  return b.Finish();
}

absl::StatusOr<CaseChange> CaseWorkflow::CompleteTask(const LoadedCase& current,
                                                      const v1::CompleteTaskRequest& request,
                                                      absl::Time now) const {
  if (absl::Status s = CheckNote("note", request.note(), 2000); !s.ok()) return s;
  bool open = std::any_of(current.open_tasks.begin(), current.open_tasks.end(),
                          [&](const v1::Task& t) { return t.id() == request.task_id(); });
  if (!open) {
    return absl::FailedPreconditionError(absl::StrCat("task ", request.task_id(), " is not open"));
  }
  ChangeBuilder b(options_, &current, now);
  b.EndTasks(v1::TASK_STATUS_DONE, [&](const v1::Task& t) { return t.id() == request.task_id(); });
  return b.Finish();
}

std::optional<CaseChange> CaseWorkflow::Fire(const LoadedCase& current,
                                             const v1::FollowUpTimer& timer, absl::Time now) const {
  const v1::Case& kase = current.kase;
  if (IsTerminal(kase.state())) return std::nullopt;
  ChangeBuilder b(options_, &current, now);
  b.change().fired_timer = timer.id();
  b.CancelTimers({timer.id()});
  v1::CaseState state = kase.state();
  absl::Time due = FromTimestamp(kase.first_contact_due());
  switch (timer.kind()) {
    case v1::FollowUpTimer::KIND_FIRST_CONTACT_AT_RISK:
    case v1::FollowUpTimer::KIND_FIRST_CONTACT_BREACHED: {
      if (kase.reached()) return std::nullopt;
      bool breached = timer.kind() == v1::FollowUpTimer::KIND_FIRST_CONTACT_BREACHED;
      b.AddTask(absl::StrCat(kase.referral_id(), breached ? "/sla-breached" : "/sla-at-risk"),
                breached ? v1::TASK_KIND_SLA_BREACHED : v1::TASK_KIND_SLA_AT_RISK, due,
                breached ? absl::StrCat("First contact overdue since ",
                                        DayOf(due, options_.deadlines.zone))
                         : absl::StrCat("First contact due by ",
                                        DayOf(due, options_.deadlines.zone), ": not made yet"));
      b.CaseEvent(state, state, "scheduler",
                  breached ? "first-contact deadline breached" : "first-contact deadline at risk")
          .set_alert(breached ? v1::CASE_ALERT_SLA_BREACHED : v1::CASE_ALERT_SLA_AT_RISK);
      return b.Finish();
    }
    case v1::FollowUpTimer::KIND_FOLLOW_UP_CHECK_IN: {
      if (state != v1::CASE_STATE_CONNECTED && state != v1::CASE_STATE_FOLLOW_UP) {
        return std::nullopt;
      }
      absl::Time check_in_due =
          AddWorkingDays(now, options_.check_in_working_days, options_.deadlines.holidays,
                         options_.deadlines.zone);
      b.AddTask(CheckInId(kase.referral_id(), timer.sequence()), v1::TASK_KIND_FOLLOW_UP_CHECK_IN,
                check_in_due,
                absl::StrCat("Follow-up check-in ", timer.sequence(),
                             ": is the person still attending? Record an outcome measure"));
      b.CaseEvent(state, state, "scheduler", absl::StrCat("follow-up ", timer.sequence(), " due"))
          .set_alert(v1::CASE_ALERT_FOLLOW_UP_DUE);
      return b.Finish();
    }
    default:
      return std::nullopt;
  }
}

}  // namespace signpost::followup

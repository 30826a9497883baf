#include "services/followup/access_audit.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/events/event_factory.h"
#include "common/kafka/topics.h"

namespace signpost::followup {

AccessAudit::AccessAudit(kafka::Producer& producer, std::string topic_prefix, std::string instance,
                         std::function<absl::Time()> clock, absl::Duration wait)
    : producer_(producer),
      wait_(wait),
      topic_(kafka::TopicName(kafka::Topic::kAuditAccess, topic_prefix)),
      instance_(std::move(instance)),
      clock_(std::move(clock)) {}

absl::Status AccessAudit::Record(const std::string& referral_id, const std::string& actor,
                                 const std::string& rpc, const std::string& purpose,
                                 const v1::Case& delivered, const auth::Principal& caller) {
  v1::Event event;
  v1::PersonalDataAccess* access = event.mutable_personal_data_access();
  access->set_actor(actor);
  access->set_service("signpost-followup");
  access->set_rpc(rpc);
  access->set_purpose(purpose.empty() ? "case work" : purpose);
  for (auto& field : PersonalFields(delivered)) access->add_fields(std::move(field));
  access->set_instance(instance_);
  access->set_subject(caller.subject);
  access->set_role(std::string(auth::RoleName(caller.role)));
  events::Seal(event, referral_id, absl::StrCat("signpost-followup/", instance_), clock_());
  // Waits for the broker at most `wait_`, not the producer's whole delivery timeout: a caller
  // is told UNAVAILABLE soon, and the gRPC thread is not held while the broker is away. A
  // record acknowledged after that still stands (a delivery refused, recorded: the safe side).
  auto done = std::make_shared<absl::Notification>();
  auto result = std::make_shared<absl::Status>();
  producer_.SendAsync(events::ToMessage(event, topic_, referral_id),
                      [done, result](absl::Status sent) {
                        *result = std::move(sent);
                        done->Notify();
                      });
  absl::Status sent = done->WaitForNotificationWithTimeout(wait_)
                          ? *result
                          : absl::DeadlineExceededError("no acknowledgement in time");
  if (sent.ok()) return sent;
  std::string why = absl::StrCat(
      "the access to the person's details could not be recorded, so they are not given: ",
      sent.message());
  return sent.code() == absl::StatusCode::kUnavailable ||
                 sent.code() == absl::StatusCode::kDeadlineExceeded
             ? absl::UnavailableError(why)
             : absl::InternalError(why);
}

std::vector<std::string> PersonalFields(const v1::Case& kase) {
  std::vector<std::string> out;
  const v1::PersonIdentity& identity = kase.identity();
  const auto* descriptor = identity.GetDescriptor();
  const auto* reflection = identity.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    bool present = field->is_repeated() ? reflection->FieldSize(identity, field) > 0
                                        : reflection->HasField(identity, field);
    if (present) out.push_back(absl::StrCat("identity.", field->name()));
  }
  if (!kase.referral_notes().empty()) out.push_back("referral_notes");
  return out;
}

void StripPersonalFields(v1::Case& kase) {
  kase.clear_identity();
  kase.clear_referral_notes();
  kase.clear_sealed_details();  // not in clear, but GetCase's business all the same
}

}  // namespace signpost::followup

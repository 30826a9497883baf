#include "services/intake/status_projection.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace signpost::intake {
namespace {

// How follow-up words the reason of a connection (case_workflow.cc, RecordConnection).
constexpr absl::string_view kConnectedReasonPrefix = "connected to ";

// A link worker, not a team queue ("team:<network>", where nobody has the case yet).
std::string LinkWorkerOf(const std::string& id) {
  return absl::StartsWith(id, "team:") ? std::string() : id;
}

v1::ReferralState FromCaseState(v1::CaseState state) {
  switch (state) {
    case v1::CASE_STATE_ASSIGNED:
      return v1::REFERRAL_STATE_ASSIGNED;
    case v1::CASE_STATE_CONTACTING:
    case v1::CASE_STATE_ENGAGED:
      return v1::REFERRAL_STATE_IN_CONTACT;
    case v1::CASE_STATE_CONNECTED:
    case v1::CASE_STATE_FOLLOW_UP:
      return v1::REFERRAL_STATE_CONNECTED;
    case v1::CASE_STATE_CLOSED:
    case v1::CASE_STATE_DECLINED:
    case v1::CASE_STATE_UNABLE_TO_CONTACT:
    case v1::CASE_STATE_EXPIRED:
      return v1::REFERRAL_STATE_CLOSED;
    case v1::CASE_STATE_WITHDRAWN:
      return v1::REFERRAL_STATE_WITHDRAWN;
    default:
      return v1::REFERRAL_STATE_UNSPECIFIED;
  }
}

}  // namespace

bool IsTerminal(v1::ReferralState state) {
  return state == v1::REFERRAL_STATE_CLOSED || state == v1::REFERRAL_STATE_WITHDRAWN ||
         state == v1::REFERRAL_STATE_REJECTED;
}

v1::ReferralState CombineStates(v1::ReferralState current, v1::ReferralState next) {
  if (IsTerminal(current)) return current;
  if (IsTerminal(next)) return next;
  return next > current ? next : current;
}

std::optional<StatusUpdate> ProjectStatus(const v1::Event& event) {
  StatusUpdate update;
  auto& change = update.change;
  change.set_event_id(event.envelope().event_id());
  change.set_event_type(event.envelope().type());
  *change.mutable_at() = event.envelope().occurred_at();
  switch (event.payload_case()) {
    case v1::Event::kReferralReceived: {
      const auto& received = event.referral_received();
      change.set_state(v1::REFERRAL_STATE_RECEIVED);
      change.set_detail(received.priority() == v1::URGENCY_PRIORITY ? "received; priority"
                                                                    : "received");
      update.source.set_source_system(received.referral().source_system());
      update.source.set_source_referral_id(received.referral().source_referral_id());
      update.referrer_ods_code = received.referral().referrer().ods_code();
      update.priority = received.priority();
      return update;
    }
    case v1::Event::kReferralWithdrawn:
      change.set_state(v1::REFERRAL_STATE_WITHDRAWN);
      change.set_detail(absl::StrCat(v1::WithdrawalReason_Name(event.referral_withdrawn().reason()),
                                     event.referral_withdrawn().detail().empty() ? "" : ": ",
                                     event.referral_withdrawn().detail()));
      return update;
    case v1::Event::kReferralMatched: {
      const auto& matched = event.referral_matched();
      int options = 0;
      for (const auto& need : matched.needs()) options += need.options_size();
      change.set_state(v1::REFERRAL_STATE_MATCHED);
      change.set_detail(absl::StrCat(options, " options for ", matched.needs_size(),
                                     " needs; link worker ", matched.link_worker_id()));
      update.link_worker_id = LinkWorkerOf(matched.link_worker_id());
      if (!matched.priority_reasons().empty()) {
        update.raised_priority = matched.priority();
        absl::StrAppend(change.mutable_detail(),
                        "; priority: ", absl::StrJoin(matched.priority_reasons(), "; "));
      }
      return update;
    }
    case v1::Event::kCaseEvent: {
      const auto& c = event.case_event();
      v1::ReferralState state = FromCaseState(c.to_state());
      if (state == v1::REFERRAL_STATE_UNSPECIFIED) return std::nullopt;
      change.set_state(state);
      change.set_detail(absl::StrCat("case ", v1::CaseState_Name(c.to_state()),
                                     c.reason().empty() ? "" : ": ", c.reason()));
      if (c.has_closure_reason()) update.closure_reason = c.closure_reason();
      update.link_worker_id =
          LinkWorkerOf(c.has_reassigned_to() ? c.reassigned_to() : c.link_worker_id());
      if (c.has_connected_resource_id() && !c.connected_resource_id().empty()) {
        v1::ReferralConnection connection;
        connection.set_resource_id(c.connected_resource_id());
        // Follow-up names the resource only in the reason it gives ("connected to <name>").
        connection.set_resource_name(
            std::string(absl::StripPrefix(c.reason(), kConnectedReasonPrefix)));
        if (connection.resource_name() == c.reason()) connection.clear_resource_name();
        *connection.mutable_at() = event.envelope().occurred_at();
        update.connection = std::move(connection);
      }
      return update;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace signpost::intake

#pragma once

#include "signpost/v1/followup.pb.h"

namespace signpost::events {

// A case in one of these states has ended: closed, declined, unable to contact, withdrawn or
// expired. Follow-up owns the lifecycle; matching (caseloads) and the monitor read it.
inline bool IsCaseEnded(v1::CaseState state) {
  switch (state) {
    case v1::CASE_STATE_CLOSED:
    case v1::CASE_STATE_DECLINED:
    case v1::CASE_STATE_UNABLE_TO_CONTACT:
    case v1::CASE_STATE_WITHDRAWN:
    case v1::CASE_STATE_EXPIRED:
      return true;
    default:
      return false;
  }
}

}  // namespace signpost::events

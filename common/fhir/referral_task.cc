#include "common/fhir/referral_task.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace signpost::fhir {

std::string SourceIdentifierSystem(absl::string_view source_system) {
  return absl::StrCat(kSourceSystemPrefix, source_system);
}

TaskStatus ClosedTaskStatus(v1::ClosureReason reason) {
  const std::string code(absl::StripPrefix(v1::ClosureReason_Name(reason), "CLOSURE_REASON_"));
  switch (reason) {
    case v1::CLOSURE_REASON_DECLINED:
      return {"cancelled", "the person declined social prescribing", code};
    case v1::CLOSURE_REASON_WITHDRAWN:
      return {"cancelled", "withdrawn by the referrer", code};
    case v1::CLOSURE_REASON_UNABLE_TO_CONTACT:
      return {"failed", "the link worker could not contact the person", code};
    case v1::CLOSURE_REASON_NO_SUITABLE_PROVISION:
      return {"failed", "no suitable provision could be found for the person's needs", code};
    case v1::CLOSURE_REASON_EXPIRED:
      return {"failed", "the case expired before the person was connected", code};
    case v1::CLOSURE_REASON_COMPLETED:
    default:
      return {"completed", "", ""};
  }
}

}  // namespace signpost::fhir

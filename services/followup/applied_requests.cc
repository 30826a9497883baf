#include "services/followup/applied_requests.h"

#include <algorithm>

#include "common/status/field_violations.h"

namespace signpost::followup {
namespace {

// Long enough for a UUID with a prefix; short enough that 32 of them keep the record small.
constexpr size_t kMaxRequestIdLength = 64;

}  // namespace

absl::Status CheckRequestId(const std::string& request_id) {
  bool printable = std::all_of(request_id.begin(), request_id.end(),
                               [](char c) { return c >= 0x20 && c <= 0x7e; });
  if (request_id.size() <= kMaxRequestIdLength && printable) return absl::OkStatus();
  return InvalidArgumentWithViolations(
      {{"request_id",
        "at most 64 printable ASCII characters, one per user action (e.g. a UUID), the same on "
        "every retry of it"}});
}

bool AlreadyApplied(const v1::Case& kase, const std::string& request_id) {
  if (request_id.empty()) return false;
  return std::find(kase.applied_request_ids().begin(), kase.applied_request_ids().end(),
                   request_id) != kase.applied_request_ids().end();
}

void RememberApplied(v1::Case& kase, const std::string& request_id) {
  if (request_id.empty()) return;
  kase.add_applied_request_ids(request_id);
  auto* ids = kase.mutable_applied_request_ids();
  int excess = ids->size() - kRememberedRequests;
  if (excess > 0) ids->DeleteSubrange(0, excess);
}

}  // namespace signpost::followup

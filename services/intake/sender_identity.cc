#include "services/intake/sender_identity.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "services/intake/identifiers.h"

namespace signpost::intake {
namespace {

// The same rules ValidateReferral applies to a referral's own fields.
bool IsSourceSystem(absl::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(c) || std::strchr("._:-", c) != nullptr;
  });
}

bool IsSourceReferralId(absl::string_view s) {
  return !s.empty() && s.size() <= 128 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c <= '~' && c != '|'; });
}

}  // namespace

SenderIdentity WellFormed(SenderIdentity sender) {
  if (!IsSourceSystem(sender.source_system)) sender.source_system.clear();
  if (!IsSourceReferralId(sender.source_referral_id)) sender.source_referral_id.clear();
  sender.referrer_ods_code = absl::AsciiStrToUpper(sender.referrer_ods_code);
  if (!IsValidOdsCode(sender.referrer_ods_code)) sender.referrer_ods_code.clear();
  return sender;
}

SenderIdentity SenderOf(const v1::Referral& referral) {
  return WellFormed(
      {referral.source_system(), referral.source_referral_id(), referral.referrer().ods_code()});
}

SenderIdentity SenderFromKafkaKey(absl::string_view key) {
  // A source system has no '/', so the first one separates the two parts.
  size_t slash = key.find('/');
  if (slash == absl::string_view::npos) return WellFormed({std::string(key), "", ""});
  return WellFormed({std::string(key.substr(0, slash)), std::string(key.substr(slash + 1)), ""});
}

SenderIdentity FilledFrom(SenderIdentity first, const SenderIdentity& fallback) {
  // A referral id means something only beside its own system's name.
  if (first.source_system.empty()) {
    first.source_system = fallback.source_system;
    if (first.source_referral_id.empty()) first.source_referral_id = fallback.source_referral_id;
  } else if (first.source_referral_id.empty() && first.source_system == fallback.source_system) {
    first.source_referral_id = fallback.source_referral_id;
  }
  if (first.referrer_ods_code.empty()) first.referrer_ods_code = fallback.referrer_ods_code;
  return first;
}

}  // namespace signpost::intake

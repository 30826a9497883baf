#include "common/events/event_envelope.h"

#include <openssl/sha.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace signpost::events {
namespace {

absl::BitGen& Gen() {
  thread_local absl::BitGen gen;
  return gen;
}

std::string RandomHex(size_t bytes) {
  std::string out;
  out.reserve(bytes * 2);
  for (size_t i = 0; i < bytes; ++i) {
    absl::StrAppendFormat(&out, "%02x", absl::Uniform<uint32_t>(Gen(), 0, 256));
  }
  return out;
}

bool IsHex(absl::string_view s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) return false;
  }
  return s.find_first_not_of('0') != absl::string_view::npos;
}

}  // namespace

std::string NewEventId() {
  uint64_t hi = absl::Uniform<uint64_t>(Gen());
  uint64_t lo = absl::Uniform<uint64_t>(Gen());
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff,
                         lo >> 48, lo & 0xffffffffffffULL);
}

std::string NameBasedEventId(absl::string_view name) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(), digest);
  std::string hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-8", hex.substr(13, 3), "-a",
                      hex.substr(17, 3), "-", hex.substr(20, 12));
}

std::string NewTraceparent(absl::string_view parent) {
  std::vector<absl::string_view> parts = absl::StrSplit(parent, '-');
  if (parts.size() == 4 && parts[0] == "00" && IsHex(parts[1], 32) && IsHex(parts[2], 16)) {
    return absl::StrCat("00-", parts[1], "-", RandomHex(8), "-", parts[3]);
  }
  return absl::StrCat("00-", RandomHex(16), "-", RandomHex(8), "-01");
}

std::string NameBasedTraceparent(absl::string_view name, absl::string_view parent) {
  std::vector<absl::string_view> parts = absl::StrSplit(parent, '-');
  bool child = parts.size() == 4 && parts[0] == "00" && IsHex(parts[1], 32) && IsHex(parts[2], 16);
  std::string named = absl::StrCat(name, "\n", child ? parts[1] : "");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(named.data()), named.size(), digest);
  std::string hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
  std::string trace_id = hex.substr(0, 32), span_id = hex.substr(32, 16);
  // An all-zero id is invalid: as good as impossible from a digest, but cheap to rule out.
  if (!IsHex(trace_id, 32)) trace_id.back() = '1';
  if (!IsHex(span_id, 16)) span_id.back() = '1';
  if (child) return absl::StrCat("00-", parts[1], "-", span_id, "-", parts[3]);
  return absl::StrCat("00-", trace_id, "-", span_id, "-01");
}

absl::string_view EventTypeName(const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kReferralReceived:
      return "referral.received";
    case v1::Event::kReferralRejected:
      return "referral.rejected";
    case v1::Event::kReferralWithdrawn:
      return "referral.withdrawn";
    case v1::Event::kReferralMatched:
      return "referral.matched";
    case v1::Event::kNeedUnmet:
      return "need.unmet";
    case v1::Event::kCaseEvent:
      return "case.changed";
    case v1::Event::kTaskEvent:
      return "task.changed";
    case v1::Event::kReferrerFeedback:
      return "referrer.feedback";
    case v1::Event::kResourceUpserted:
      return "resource.upserted";
    case v1::Event::kLinkWorkerUpserted:
      return "link_worker.upserted";
    case v1::Event::kNetworkUpserted:
      return "network.upserted";
    case v1::Event::kPersonalDataAccess:
      return "personal_data.accessed";
    case v1::Event::PAYLOAD_NOT_SET:
      return "";
  }
  return "";
}

void Seal(v1::Event& event, absl::string_view referral_id, absl::string_view producer,
          absl::Time now, absl::string_view parent_traceparent, absl::string_view causation_id) {
  v1::Envelope& envelope = *event.mutable_envelope();
  envelope.set_event_id(NewEventId());
  envelope.set_type(std::string(EventTypeName(event)));
  envelope.set_schema_version(kSchemaVersion);
  envelope.set_referral_id(std::string(referral_id));
  int64_t nanos = absl::ToUnixNanos(now);
  envelope.mutable_occurred_at()->set_seconds(nanos / 1000000000);
  envelope.mutable_occurred_at()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  envelope.set_producer(std::string(producer));
  envelope.mutable_trace()->set_traceparent(NewTraceparent(parent_traceparent));
  envelope.set_causation_id(std::string(causation_id));
}

}  // namespace signpost::events

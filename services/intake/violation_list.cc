#include "services/intake/violation_list.h"

#include "absl/strings/str_cat.h"

namespace signpost::intake {

std::string Abbreviated(std::string text, size_t max_bytes) {
  constexpr char kCut[] = "...";
  constexpr size_t kCutSize = sizeof(kCut) - 1;
  if (text.size() <= max_bytes) return text;
  size_t keep = max_bytes > kCutSize ? max_bytes - kCutSize : 0;
  // Back off continuation bytes (10xxxxxx) so that the cut falls between characters.
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  text.resize(keep);
  text.append(kCut);
  return text;
}

void ViolationList::Add(std::string field, std::string description) {
  ++total_;
  if (listed_.size() >= bounds_.max_listed) return;
  field = Abbreviated(std::move(field), bounds_.max_text_bytes);
  description = Abbreviated(std::move(description), bounds_.max_text_bytes);
  size_t bytes = field.size() + description.size();
  if (listed_bytes_ + bytes > bounds_.max_listed_bytes) {
    // Nothing more is listed once the budget is spent, so the list stays in arrival order.
    listed_bytes_ = bounds_.max_listed_bytes;
    return;
  }
  listed_bytes_ += bytes;
  listed_.push_back({std::move(field), std::move(description)});
}

absl::Status StatusWithViolations(absl::StatusCode code, const std::vector<FieldViolation>& listed,
                                  int64_t unlisted) {
  if (listed.empty() && unlisted == 0) return absl::OkStatus();
  absl::Status details = InvalidArgumentWithViolations(listed);
  std::string message = listed.empty()
                            ? std::string("invalid")
                            : absl::StrCat(listed.front().field, ": ", listed.front().description);
  int64_t more = static_cast<int64_t>(listed.size()) - 1 + unlisted;
  if (unlisted > 0) {
    absl::StrAppend(&message, " (and ", more, " more; the first ", listed.size(), " are listed)");
  } else if (more > 0) {
    absl::StrAppend(&message, " (and ", more, " more)");
  }
  absl::Status status(code, message);
  details.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { status.SetPayload(url, payload); });
  return status;
}

}  // namespace signpost::intake

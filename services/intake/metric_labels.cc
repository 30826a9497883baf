#include "services/intake/metric_labels.h"

#include "absl/strings/ascii.h"

namespace signpost::intake {

std::string FieldLabel(absl::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    out.push_back(field[i]);
    if (field[i] != '[') continue;
    size_t j = i + 1;
    while (j < field.size() && absl::ascii_isdigit(field[j])) ++j;
    if (j > i + 1 && j < field.size() && field[j] == ']') i = j - 1;  // drop the digits
  }
  return out;
}

std::string SourceSystemLabels::Accepted(const std::string& source_system) {
  if (source_system.empty()) return "unknown";
  absl::MutexLock lock(&mu_);
  if (named_.contains(source_system)) return source_system;
  if (named_.size() >= max_named_) return "other";
  named_.insert(source_system);
  return source_system;
}

std::string SourceSystemLabels::Of(const std::string& source_system) const {
  if (source_system.empty()) return "unknown";
  absl::MutexLock lock(&mu_);
  return named_.contains(source_system) ? source_system : "other";
}

}  // namespace signpost::intake

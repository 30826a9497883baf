#include "common/kafka/message.h"

namespace signpost::kafka {

std::optional<absl::string_view> FindHeader(const Headers& headers, absl::string_view key) {
  for (const auto& header : headers) {
    if (header.key == key) return header.value;
  }
  return std::nullopt;
}

}  // namespace signpost::kafka

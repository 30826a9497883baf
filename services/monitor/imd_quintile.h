#pragma once

#include <string>

#include "absl/strings/str_cat.h"

namespace signpost::monitor {

// The IMD quintile a decile falls in, as the monitor's views name it: quintile 1 (deciles 1-2,
// Core20) is the most deprived fifth of areas in England.
inline std::string ImdQuintile(int decile) {
  if (decile < 1 || decile > 10) return "unknown";
  int quintile = (decile + 1) / 2;
  if (quintile == 1) return "1 (most deprived)";
  if (quintile == 5) return "5 (least deprived)";
  return absl::StrCat(quintile);
}

}  // namespace signpost::monitor

// libFuzzer target: any bytes as Open Referral UK / HSDS JSON through the importer and the
// validation of every record it maps.
#include <cstddef>
#include <cstdint>

#include "services/matching/open_referral.h"
#include "services/matching/resource_validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace signpost;
  auto records = matching::ResourcesFromOpenReferral(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!records.ok()) return 0;
  for (const auto& record : *records) {
    if (record.resource.ok()) (void)matching::ValidateResource(*record.resource);
  }
  return 0;
}

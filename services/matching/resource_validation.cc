#include "services/matching/resource_validation.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/events/unrouted.h"

namespace signpost::matching {

bool IsValidDirectoryId(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(c) || std::strchr("._:-", c) != nullptr;
  });
}

std::vector<FieldViolation> ValidateResource(const v1::Resource& r) {
  std::vector<FieldViolation> v;
  if (!IsValidDirectoryId(r.id())) {
    v.push_back({"id", "1-64 letters, digits, '.', '_', ':' or '-'"});
  }
  if (r.name().empty() || r.name().size() > 200)
    v.push_back({"name", "required, at most 200 characters"});
  if (r.status() == v1::RESOURCE_STATUS_UNSPECIFIED || !v1::ResourceStatus_IsValid(r.status())) {
    v.push_back({"status", "active, inactive, defunct or temporarily closed"});
  }
  if (r.need_categories_size() == 0) {
    v.push_back({"need_categories", "at least one need category it serves"});
  }
  for (int i = 0; i < r.need_categories_size(); ++i) {
    int c = r.need_categories(i);
    if (c == v1::NEED_CATEGORY_UNSPECIFIED || !v1::NeedCategory_IsValid(c)) {
      v.push_back({absl::StrCat("need_categories[", i, "]"), absl::StrCat("unknown category ", c)});
    }
  }
  bool remote = false, located = false;
  for (int mode : r.delivery_modes()) {
    if (!v1::DeliveryMode_IsValid(mode) || mode == v1::DELIVERY_MODE_UNSPECIFIED) {
      v.push_back({"delivery_modes", absl::StrCat("unknown mode ", mode)});
    }
    remote |= mode == v1::DELIVERY_MODE_ONLINE || mode == v1::DELIVERY_MODE_PHONE;
  }
  for (int i = 0; i < r.locations_size(); ++i) {
    const auto& loc = r.locations(i);
    if (loc.type() == v1::LOCATION_TYPE_VIRTUAL) continue;
    if (!loc.has_point()) continue;
    double lat = loc.point().latitude(), lon = loc.point().longitude();
    if (lat < 49.0 || lat > 61.0 || lon < -9.0 || lon > 2.5) {
      v.push_back({absl::StrCat("locations[", i, "].point"), "not in the UK"});
    } else {
      located = true;
    }
  }
  if (!located && !remote) {
    v.push_back({"locations", "a located place, or online or phone delivery, is required"});
  }
  if (r.minimum_age() < 0 || r.maximum_age() < 0 ||
      (r.maximum_age() > 0 && r.minimum_age() > r.maximum_age())) {
    v.push_back({"maximum_age", "ages must be 0 or more, minimum not above maximum"});
  }
  const auto& cap = r.capacity();
  if (cap.places_total() < 0 || cap.places_available() < 0 ||
      (cap.places_total() > 0 && cap.places_available() > cap.places_total())) {
    v.push_back({"capacity.places_available", "between 0 and places_total"});
  }
  for (int i = 0; i < r.languages_size(); ++i) {
    const auto& l = r.languages(i);
    if (l.size() != 2 || !absl::ascii_islower(l[0]) || !absl::ascii_islower(l[1])) {
      v.push_back({absl::StrCat("languages[", i, "]"), "an ISO 639-1 code such as \"en\""});
    }
  }
  for (int i = 0; i < r.eligibility_size(); ++i) {
    int g = r.eligibility(i);
    if (g == v1::INCLUSION_GROUP_UNSPECIFIED || !v1::InclusionGroup_IsValid(g)) {
      v.push_back({absl::StrCat("eligibility[", i, "]"), absl::StrCat("unknown group ", g)});
    }
  }
  return v;
}

std::vector<FieldViolation> ValidateLinkWorker(const v1::LinkWorker& w) {
  std::vector<FieldViolation> v;
  if (!IsValidDirectoryId(w.id())) v.push_back({"id", "not a directory id"});
  if (!IsValidDirectoryId(w.network_id())) v.push_back({"network_id", "not a directory id"});
  if (w.max_active_cases() < 0) v.push_back({"max_active_cases", "0 or more"});
  return v;
}

std::vector<FieldViolation> ValidateNetwork(const v1::Network& n) {
  if (!IsValidDirectoryId(n.id())) return {{"id", "not a directory id"}};
  if (n.id() == events::kUnroutedNetworkId) {
    return {{"id", absl::StrCat("'", events::kUnroutedNetworkId,
                                "' is reserved for the regional queue of referrals from "
                                "practices no network lists")}};
  }
  return {};
}

}  // namespace signpost::matching

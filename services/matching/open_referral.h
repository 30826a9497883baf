#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::matching {

// One Open Referral UK (HSDS) service mapped to a resource, or why it could not be.
struct OpenReferralRecord {
  std::string id;
  absl::StatusOr<v1::Resource> resource;
};

// Pure. Maps the services of an Open Referral UK / HSDS document (a JSON array of services, or
// an object with "services", "items" or "content") one by one:
//  - id, name, description, url, email, status, organization {id, name}, assured_date,
//    minimum_age, maximum_age, languages ([{"language": "English"}] or ISO codes),
//    cost_options (amount 0 or option "Free" -> free), regular_schedules, service_areas
//  - service_at_locations[].location: latitude, longitude, physical_addresses[0] (address_1,
//    postal_code), accessibility_for_disabilities[].accessibility (step-free / wheelchair / ramp /
//    level access, hearing or induction loop, BSL, interpreter)
//  - service_taxonomys[].taxonomy.name -> need categories (keyword map; a service none of whose
//    terms maps is rejected: it would never be offered)
//  - eligibilitys[].eligibility -> eligibility groups (veterans, carers, young people, ...)
//  - what the standard lacks, as extensions: x_signpost_capacity {places_total,
//    places_available, waitlist_open} and x_signpost_delivery_modes ["in_person", "online",
//    "phone", "home_visit"] (default in person when located, else online)
// HSDS 3.0 / ORUK 3.0 names are read too (a fully nested GET /services/{id}): schedules,
// service_areas[].name, languages[].code or .name, location addresses (the physical one) and
// accessibility[].description, and attributes[].taxonomy_term.name for the taxonomy terms.
// A document that is not JSON fails as a whole.
absl::StatusOr<std::vector<OpenReferralRecord>> ResourcesFromOpenReferral(absl::string_view json);

}  // namespace signpost::matching

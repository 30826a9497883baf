#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "google/protobuf/timestamp.pb.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::matching {

// A Signpost resource as Open Referral UK 3.0 (the UK profile of HSDS 3.0) publishes a service:
// the shapes of the profile's schema/compiled/service.json (GET /services/{id}) and
// service_list.json (an item of GET /services), vendored under tests/services/matching/data/oruk.
// Pure: no I/O. Ids are ORUK ids (oruk_ids.h); the Signpost id stays visible as `signpost_id`.
// Capacity is published as HSDS 3.1's `capacities` (3.1 pre-adoption: 3.0 has none; its
// schemas allow fields they do not name).

// A taxonomy term a service is tagged with: a need category Signpost matches on, a term as the
// publisher gave it, an eligibility group or a delivery mode.
struct OrukTerm {
  std::string id;  // ORUK id of the term, the same for every service tagged with it
  std::string name;
  std::string description;
  std::string taxonomy;
  std::string term;       // the term's code (the proto enum name, or the term as published)
  std::string link_type;  // what the term describes: need_category, taxonomy_term, ...
};
std::vector<OrukTerm> TermsOf(const v1::Resource& resource);

// GET / : the API's version, profile and OpenAPI definition, as the ORUK validator expects.
nlohmann::json ApiDetails();

// An item of GET /services (one-to-one fields and the organisation).
nlohmann::json ServiceListItem(const v1::Resource& resource);

// GET /services/{id}: the service fully nested.
nlohmann::json FullService(const v1::Resource& resource);

// GET /services: HSDS's Page envelope around `contents`, the items of page `page_number` (1-based)
// of `total_items` at `per_page` a page.
nlohmann::json ServicePage(std::vector<nlohmann::json> contents, int64_t total_items,
                           int page_number, int per_page);

// The body of every error answer: {"status": 400, "message": "...", "parameter": "per_page"}.
nlohmann::json ErrorBody(int status, const std::string& message, const std::string& parameter = "");

// RFC 3339 in UTC with milliseconds ("2026-01-31T09:00:00.000Z").
std::string Rfc3339(const google::protobuf::Timestamp& at);

}  // namespace signpost::matching

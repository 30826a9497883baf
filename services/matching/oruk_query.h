#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::matching {

// What a client asks of ORUK's GET /services: which page, how big, and which services.
struct ServicesQuery {
  int page = 1;  // 1-based
  int per_page = 50;
  std::optional<absl::Time> modified_after;  // last modified on or after
  std::string taxonomy_term_id;              // a term's ORUK id, or the term as published
  std::string search;                        // words in the name or description

  static constexpr int kMaxPerPage = 200;
  // Whether any filter is set: without one, the page is cut from the id list alone.
  bool Filters() const {
    return modified_after.has_value() || !taxonomy_term_id.empty() || !search.empty();
  }
};

// The query from the request's parameters; INVALID_ARGUMENT with a message that starts with the
// parameter's name for a bad one (page not a positive integer, per_page outside 1..200,
// modified_after not RFC 3339, a value longer than 200 characters). Unknown parameters are
// ignored, as HSDS clients send ones the API does not support.
absl::StatusOr<ServicesQuery> ParseServicesQuery(const std::map<std::string, std::string>& params);

// Whether `resource` is one the query's filters select.
bool Selects(const ServicesQuery& query, const v1::Resource& resource);

// The parameter a ParseServicesQuery error names (the text before its first ':').
std::string ParameterOf(const absl::Status& error);

}  // namespace signpost::matching

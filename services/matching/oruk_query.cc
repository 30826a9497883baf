#include "services/matching/oruk_query.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "services/matching/oruk_service_json.h"

namespace signpost::matching {
namespace {

constexpr size_t kMaxValueLength = 200;

absl::Status Bad(const std::string& parameter, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(parameter, ": ", why));
}

absl::StatusOr<int> PositiveInteger(const std::string& parameter, const std::string& value) {
  int n = 0;
  if (!absl::SimpleAtoi(value, &n) || n < 1) {
    return Bad(parameter, absl::StrCat("must be a positive integer, not \"", value, "\""));
  }
  return n;
}

absl::Time UpdatedAt(const v1::Resource& resource) {
  return absl::FromUnixSeconds(resource.updated_at().seconds()) +
         absl::Nanoseconds(resource.updated_at().nanos());
}

}  // namespace

absl::StatusOr<ServicesQuery> ParseServicesQuery(const std::map<std::string, std::string>& params) {
  ServicesQuery query;
  for (const auto& [name, value] : params) {
    if (value.size() > kMaxValueLength) {
      return Bad(name, absl::StrCat("longer than ", kMaxValueLength, " characters"));
    }
  }
  if (auto it = params.find("page"); it != params.end()) {
    auto page = PositiveInteger("page", it->second);
    if (!page.ok()) return page.status();
    query.page = *page;
  }
  if (auto it = params.find("per_page"); it != params.end()) {
    auto per_page = PositiveInteger("per_page", it->second);
    if (!per_page.ok() || *per_page > ServicesQuery::kMaxPerPage) {
      return Bad("per_page",
                 absl::StrCat("must be an integer from 1 to ", ServicesQuery::kMaxPerPage,
                              ", not \"", it->second, "\""));
    }
    query.per_page = *per_page;
  }
  if (auto it = params.find("modified_after"); it != params.end()) {
    // An offset's '+' typed into a URL unencoded arrives as a space (form decoding); a date-time
    // has no space, so one is read as the '+' it was.
    const std::string text = absl::StrReplaceAll(it->second, {{" ", "+"}});
    absl::Time at;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, text, &at, &error)) {
      return Bad("modified_after",
                 absl::StrCat("must be an RFC 3339 date-time such as 2026-01-31T09:00:00Z, not \"",
                              it->second, "\""));
    }
    query.modified_after = at;
  }
  if (auto it = params.find("taxonomy_term_id"); it != params.end()) {
    query.taxonomy_term_id = it->second;
  }
  if (auto it = params.find("search"); it != params.end()) {
    query.search = std::string(absl::StripAsciiWhitespace(it->second));
  }
  return query;
}

bool Selects(const ServicesQuery& query, const v1::Resource& resource) {
  if (query.modified_after) {
    if (!resource.has_updated_at() || UpdatedAt(resource) < *query.modified_after) return false;
  }
  if (!query.taxonomy_term_id.empty()) {
    bool found = false;
    for (const OrukTerm& term : TermsOf(resource)) {
      if (term.id == query.taxonomy_term_id ||
          absl::EqualsIgnoreCase(term.term, query.taxonomy_term_id)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  if (!query.search.empty()) {
    const std::string name = absl::AsciiStrToLower(resource.name());
    const std::string description = absl::AsciiStrToLower(resource.description());
    const std::string search = absl::AsciiStrToLower(query.search);
    for (absl::string_view word : absl::StrSplit(search, ' ', absl::SkipWhitespace())) {
      if (!absl::StrContains(name, word) && !absl::StrContains(description, word)) return false;
    }
  }
  return true;
}

std::string ParameterOf(const absl::Status& error) {
  return std::string(error.message().substr(0, error.message().find(':')));
}

}  // namespace signpost::matching

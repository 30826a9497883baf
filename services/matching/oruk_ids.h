#pragma once

#include <string>
#include <string_view>

namespace signpost::matching {

// Open Referral UK's ids are UUIDs (`format: uuid`); Signpost's resource, organisation and
// location ids are whatever their publisher chose. An ORUK id is therefore derived from the
// Signpost one: the same input always gives the same UUID, so a client paging today and
// tomorrow sees the same ids.

// The RFC 9562 version 5 (SHA-1, name-based) UUID of `name` in Signpost's own namespace
// (kOrukNamespace), lower-case 8-4-4-4-12.
std::string NameBasedUuid(std::string_view name);

// Whether `text` is a UUID as this API writes one: 36 characters, lower-case hex, 8-4-4-4-12.
bool IsLowerCaseUuid(std::string_view text);

// The ORUK id of a Signpost id of `kind` ("service", "organization", ...): the id itself when it
// is a UUID already (a directory imported from an ORUK feed keeps its ids), else the name-based
// UUID of "<kind>:<id>".
std::string OrukId(std::string_view kind, std::string_view signpost_id);

// The namespace of every name-based id above: uuid5(NAMESPACE_URL,
// "urn:signpost:open-referral-uk"). Never change it: every published id would change.
inline constexpr char kOrukNamespace[] = "93c718db-7fd0-5c22-a215-f3317dfdda5b";

}  // namespace signpost::matching

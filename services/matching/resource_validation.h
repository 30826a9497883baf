#pragma once

#include <vector>

#include "common/status/field_violations.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::matching {

// Pure. Every violation of a directory record, with its field path: an id, a name, a known
// status, at least one need category, somewhere to be reached (a located place in the UK, or
// online / phone delivery), sensible ages and capacity, ISO 639-1 languages.
std::vector<FieldViolation> ValidateResource(const v1::Resource& resource);

// Ids of directory records and roster entries: 1-64 letters, digits, '.', '_', ':' or '-'.
bool IsValidDirectoryId(const std::string& id);

}  // namespace signpost::matching

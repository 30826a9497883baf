#pragma once

#include <vector>

#include "common/status/field_violations.h"
#include "signpost/v1/link_worker.pb.h"
#include "signpost/v1/resource.pb.h"

namespace signpost::matching {

// Pure. Every violation of a directory record, with its field path: an id, a name, a known
// status, at least one need category, somewhere to be reached (a located place in the UK, or
// online / phone delivery), sensible ages and capacity, ISO 639-1 languages.
std::vector<FieldViolation> ValidateResource(const v1::Resource& resource);

// Pure. Every violation of a link worker: directory ids for it and its network, a cap of 0 or
// more.
std::vector<FieldViolation> ValidateLinkWorker(const v1::LinkWorker& worker);

// Pure. Every violation of a network: a directory id, and not the id reserved for the regional
// queue of referrals from practices no network lists.
std::vector<FieldViolation> ValidateNetwork(const v1::Network& network);

// Ids of directory records and roster entries: 1-64 letters, digits, '.', '_', ':' or '-'.
bool IsValidDirectoryId(const std::string& id);

}  // namespace signpost::matching

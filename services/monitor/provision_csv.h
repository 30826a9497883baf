#pragma once

#include <string>

#include "signpost/v1/ops_service.pb.h"

namespace signpost::monitor {

// The provision view as CSV for a spreadsheet: a header line, then one line per quintile and one
// per district (the first column says which). A withheld or absent figure is an empty field, so
// it is never read as a zero.
std::string ProvisionCsv(const v1::Provision& provision);

}  // namespace signpost::monitor

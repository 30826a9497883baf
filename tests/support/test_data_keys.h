#pragma once

#include <string>

#include "common/crypto/data_keyring.h"

namespace signpost::testing {

// The keyring every test's services are given (tests/support/data/test-data-keys).
inline std::string TestDataKeysPath() {
  return std::string(SIGNPOST_SOURCE_DIR) + "/tests/support/data/test-data-keys";
}

inline crypto::DataKeyring TestDataKeys() { return *crypto::DataKeyring::Load(TestDataKeysPath()); }

}  // namespace signpost::testing

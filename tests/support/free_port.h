#pragma once

namespace signpost::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
int FreePort();

}  // namespace signpost::testing

#pragma once

namespace signpost {

// SIGINT and SIGTERM handling for a service's main(): call BlockShutdownSignals() first, before
// any thread starts (threads inherit the mask, so no library thread is interrupted), then
// WaitForShutdownSignal() blocks until one arrives and returns its number.
void BlockShutdownSignals();
int WaitForShutdownSignal();

}  // namespace signpost

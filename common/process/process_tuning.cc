#include "common/process/process_tuning.h"

#include <malloc.h>

#include "absl/synchronization/mutex.h"

namespace signpost {

void TuneProcess() {
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  constexpr int kMmapThreshold = 4 << 20;
  constexpr int kTrimThreshold = 256 << 20;
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
}

}  // namespace signpost

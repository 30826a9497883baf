#include "common/process/process_tuning.h"

#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"

namespace signpost {
namespace {

// Debian's Abseil checks lock order on every lock and aborts on a cycle. A release build of ours
// turns that off (it costs every lock a global graph update); a debug build keeps it.
TEST(ProcessTuningTest, ReleaseBuildsTakeLocksWithoutTheDeadlockGraph) {
#ifndef NDEBUG
  GTEST_SKIP() << "debug builds keep Abseil's deadlock detection";
#else
  TuneProcess();
  absl::Mutex a, b;
  {
    absl::MutexLock first(&a);
    absl::MutexLock second(&b);
  }
  {
    // The other order: a cycle in the graph, which the detection would abort on.
    absl::MutexLock first(&b);
    absl::MutexLock second(&a);
  }
  SUCCEED();
#endif
}

}  // namespace
}  // namespace signpost

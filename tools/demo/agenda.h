#pragma once

#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace signpost::demo {

// Things to do at a time, done by a few threads: the simulated people of the demo wait between
// steps without a thread each.
class Agenda {
 public:
  explicit Agenda(int threads);
  ~Agenda();  // drops what is not yet due and joins the threads

  void At(absl::Time when, std::function<void()> what);

 private:
  void Work();

  absl::Mutex mu_;
  std::multimap<absl::Time, std::function<void()>> due_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace signpost::demo

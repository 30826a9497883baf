#pragma once

namespace signpost {

// Settings every long-running process of ours wants before its threads start:
//  - Debian builds Abseil without NDEBUG, so every absl::Mutex lock also updates a global
//    deadlock graph under one spin lock. Release builds of ours turn that off; debug and
//    sanitizer builds keep it, and the tests with them.
//  - glibc's malloc gives memory back to the kernel as soon as the top of a heap is free and
//    raises its mmap threshold as it goes; under a steady stream of requests the same pages are
//    faulted in and zeroed again and again. A fixed threshold and a high trim threshold keep
//    them.
void TuneProcess();

}  // namespace signpost

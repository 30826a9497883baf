#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/kafka/topics.h"
#include "signpost/v1/events.pb.h"
#include "signpost/v1/followup_service.pb.h"

namespace signpost::followup {

// A case with its open tasks, as read from the store.
struct LoadedCase {
  v1::Case kase;
  std::vector<v1::Task> open_tasks;
};

struct TaskWrite {
  v1::Task task;
  std::string previous_queue;  // set when the task moves to another queue
};

struct OutgoingEvent {
  kafka::Topic topic;
  std::string key;
  v1::Event event;
};

// Everything one action changes, applied by the store at once or not at all: the case (at its
// next version, only if nobody changed it meanwhile), its tasks, its timers, and the events that
// tell the world (kept in the store's outbox until the broker has them).
struct CaseChange {
  int64_t expected_version = 0;  // 0: the case must not exist yet
  v1::Case after;
  std::vector<TaskWrite> tasks;
  std::vector<v1::FollowUpTimer> timers_to_add;
  std::vector<std::string> timers_to_cancel;
  std::string fired_timer;  // when set, applied only if this timer is still scheduled
  std::vector<OutgoingEvent> events;
};

}  // namespace signpost::followup

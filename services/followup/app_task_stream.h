#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/metrics/http_endpoint.h"
#include "services/followup/task_feed.h"
#include "signpost/v1/followup_service.pb.h"

namespace signpost::followup {

// One task stream of the link-worker app (GET /app/api/tasks/stream) as server-sent events: what
// CaseApi::StreamStart said comes first, then every update the feed delivers after its cursor.
// HttpEndpoint calls Next on the connection's own thread; the feed delivers on its own thread, so
// updates wait in a bounded queue in between.
class AppTaskStream final : public metrics::HttpEndpoint::Stream, public TaskFeed::Subscriber {
 public:
  // A client this far behind is cut off (the stream ends); it reconnects with its last event id
  // and loses nothing.
  static constexpr size_t kMaxPending = 10000;

  // Writes `first`, then follows `queue` on `feed` from `cursor` (TaskFeed::Add: none missed,
  // none twice). At `accepted_until` (the caller's token stops being accepted) it writes
  // "event: expired" and ends.
  static std::unique_ptr<AppTaskStream> Open(TaskFeed& feed, std::vector<v1::TaskUpdate> first,
                                             const std::string& queue, const std::string& cursor,
                                             absl::Time accepted_until,
                                             std::function<absl::Time()> clock = absl::Now);
  // Leaves the feed: nothing is delivered to it after.
  ~AppTaskStream() override;
  AppTaskStream(const AppTaskStream&) = delete;
  AppTaskStream& operator=(const AppTaskStream&) = delete;

  void Deliver(std::vector<v1::TaskUpdate> updates) override;
  bool Next(metrics::HttpEndpoint::StreamWriter& writer, absl::Duration wait) override;

  // One update as an SSE event: "event: task", "id: <resume_token>" when it carries one (the
  // snapshot_end and every later update; snapshot rows carry none), "data: <TaskUpdate JSON with
  // proto field names>" on one line.
  static std::string EventOf(const v1::TaskUpdate& update);

 private:
  AppTaskStream(TaskFeed& feed, std::vector<v1::TaskUpdate> first, absl::Time accepted_until,
                std::function<absl::Time()> clock);
  bool HasNewsLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  TaskFeed& feed_;
  const absl::Time accepted_until_;
  const std::function<absl::Time()> clock_;
  absl::Mutex mu_;
  std::deque<v1::TaskUpdate> pending_ ABSL_GUARDED_BY(mu_);
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace signpost::followup

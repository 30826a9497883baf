#include "services/followup/app_task_stream.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/followup/app_json.h"

namespace signpost::followup {

std::unique_ptr<AppTaskStream> AppTaskStream::Open(
    TaskFeed& feed, std::vector<v1::TaskUpdate> first, const std::string& queue,
    const std::string& cursor, absl::Time accepted_until, std::function<absl::Time()> clock) {
  std::unique_ptr<AppTaskStream> stream(
      new AppTaskStream(feed, std::move(first), accepted_until, std::move(clock)));
  // Registered only once whole: the feed may deliver to it at once, on its own thread.
  feed.Add(stream.get(), queue, cursor);
  return stream;
}

AppTaskStream::AppTaskStream(TaskFeed& feed, std::vector<v1::TaskUpdate> first,
                             absl::Time accepted_until, std::function<absl::Time()> clock)
    : feed_(feed), accepted_until_(accepted_until), clock_(std::move(clock)) {
  for (auto& update : first) pending_.push_back(std::move(update));
}

bool AppTaskStream::HasNewsLocked() const { return overflowed_ || !pending_.empty(); }

AppTaskStream::~AppTaskStream() { feed_.Remove(this); }

void AppTaskStream::Deliver(std::vector<v1::TaskUpdate> updates) {
  absl::MutexLock lock(&mu_);
  if (overflowed_) return;
  for (auto& update : updates) pending_.push_back(std::move(update));
  if (pending_.size() > kMaxPending) {
    // Held no longer: the stream ends at its next Next, and the client resumes from what it has.
    pending_.clear();
    overflowed_ = true;
  }
}

bool AppTaskStream::Next(metrics::HttpEndpoint::StreamWriter& writer, absl::Duration wait) {
  std::deque<v1::TaskUpdate> ready;
  {
    absl::MutexLock lock(&mu_);
    const absl::Duration until_expiry = accepted_until_ - clock_();
    mu_.AwaitWithTimeout(absl::Condition(this, &AppTaskStream::HasNewsLocked),
                         std::max(absl::ZeroDuration(), std::min(wait, until_expiry)));
    if (overflowed_) return false;
    ready.swap(pending_);
  }
  // Nothing reaches a client whose token is no longer accepted: it is told, and the stream ends.
  if (clock_() >= accepted_until_) {
    (void)writer.Write("event: expired\ndata: {}\n\n");
    return false;
  }
  for (const v1::TaskUpdate& update : ready) {
    if (!writer.Write(EventOf(update))) return false;
  }
  return true;
}

std::string AppTaskStream::EventOf(const v1::TaskUpdate& update) {
  const std::string json = AppJsonOf(update);
  std::string event = "event: task\n";
  if (!update.resume_token().empty()) absl::StrAppend(&event, "id: ", update.resume_token(), "\n");
  absl::StrAppend(&event, "data: ", json, "\n\n");
  return event;
}

}  // namespace signpost::followup

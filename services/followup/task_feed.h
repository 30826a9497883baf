#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/redis/redis_client.h"
#include "services/followup/feed_bounds.h"
#include "services/followup/redis_keys.h"
#include "signpost/v1/followup_service.pb.h"

namespace signpost::followup {

// Follows the task feeds (Redis streams, one per queue) of every subscribed queue with one
// blocking XREAD on a connection of its own, and hands each subscriber the updates after its
// cursor. Updates made by any instance reach subscribers of every instance.
class TaskFeed {
 public:
  class Subscriber {
   public:
    virtual ~Subscriber() = default;
    // Called on the feed's thread; must not block.
    virtual void Deliver(std::vector<v1::TaskUpdate> updates) = 0;
  };

  // A queue's open tasks as snapshot updates, the last (snapshot_end) carrying the feed's token
  // at that moment.
  using SnapshotSource =
      std::function<absl::StatusOr<std::vector<v1::TaskUpdate>>(const std::string& queue)>;

  // `blocking_redis` is used by the feed's thread alone; `redis` answers token checks.
  // `snapshot` restarts a subscriber whose cursor the feed trimmed away after it was accepted.
  TaskFeed(redis::RedisClient& blocking_redis, redis::RedisClient& redis, RedisKeys keys,
           SnapshotSource snapshot);
  ~TaskFeed();

  void Start();
  void Stop();

  void Add(Subscriber* subscriber, const std::string& queue, const std::string& token);
  // After it returns, the subscriber receives nothing more.
  void Remove(Subscriber* subscriber);

  // Whether updates after `token` are all still in the queue's feed: true to resume from it,
  // false when the feed has been trimmed or deleted past it (start again from a snapshot: the
  // feed keeps --feed-max-length updates per queue). INVALID_ARGUMENT (field resume_token) for a
  // token that is malformed or later than anything in the feed.
  absl::StatusOr<bool> CanResume(const std::string& queue, const std::string& token);

  size_t subscribers() const;

 private:
  struct Cursor {
    std::string queue;
    std::string token;
  };
  void Run();
  // What each queue's feed holds now (a queue whose feed could not be read is left out).
  std::map<std::string, FeedBounds> BoundsOf(const std::vector<std::string>& queues);

  redis::RedisClient& blocking_redis_;
  redis::RedisClient& redis_;
  RedisKeys keys_;
  SnapshotSource snapshot_;
  mutable absl::Mutex mu_;
  std::map<Subscriber*, Cursor> cursors_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace signpost::followup

#include "common/redis/redis_pool.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>

#include <hiredis/hiredis.h>

#include "absl/strings/str_cat.h"

namespace signpost::redis {
namespace {

// True when the server has closed the connection (or sent something unasked), which happens
// when redis-server restarts while the connection sits idle in the pool.
bool PeerClosed(const redisContext& context) {
  char byte;
  ssize_t n = recv(context.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  if (n > 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK;
}

std::vector<const char*> ArgvOf(const Command& command, std::vector<size_t>& lengths) {
  std::vector<const char*> argv;
  argv.reserve(command.size());
  lengths.clear();
  for (const auto& arg : command) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return argv;
}

absl::Status ContextError(const redisContext& context, const RedisAddress& address) {
  if (context.err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    return absl::UnavailableError(absl::StrCat("redis at ", address.ToString(), ": timed out"));
  }
  return absl::UnavailableError(
      absl::StrCat("redis at ", address.ToString(), ": ", context.errstr));
}

}  // namespace

// Returns the slot to the pool when the caller is done with it.
class RedisPool::Lease {
 public:
  Lease(RedisPool& pool, Slot* slot) : pool_(pool), slot_(slot) {}
  ~Lease() { pool_.Release(slot_, broken_); }
  redisContext* context() { return slot_->context; }
  void MarkBroken() { broken_ = true; }

 private:
  RedisPool& pool_;
  Slot* slot_;
  bool broken_ = false;
};

absl::StatusOr<std::unique_ptr<RedisPool>> RedisPool::Create(const PoolOptions& options) {
  if (options.size == 0) return absl::InvalidArgumentError("redis pool size must be at least 1");
  return std::unique_ptr<RedisPool>(new RedisPool(options));
}

RedisPool::RedisPool(const PoolOptions& options) : options_(options), slots_(options.size) {}

RedisPool::~RedisPool() {
  absl::MutexLock lock(&mu_);
  for (auto& slot : slots_) {
    if (slot.context) redisFree(slot.context);
  }
}

absl::StatusOr<RedisPool::Slot*> RedisPool::Acquire() {
  absl::MutexLock lock(&mu_);
  auto has_free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto& slot : slots_) {
      if (!slot.in_use) return true;
    }
    return false;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&has_free), options_.acquire_timeout)) {
    return absl::UnavailableError(absl::StrCat("redis pool: all ", slots_.size(),
                                               " connections busy for ",
                                               absl::FormatDuration(options_.acquire_timeout)));
  }
  // Prefer a slot with a live connection.
  Slot* chosen = nullptr;
  for (auto& slot : slots_) {
    if (slot.in_use) continue;
    if (!chosen || (slot.context && !chosen->context)) chosen = &slot;
  }
  chosen->in_use = true;
  return chosen;
}

void RedisPool::Release(Slot* slot, bool broken) {
  absl::MutexLock lock(&mu_);
  if (broken && slot->context) {
    redisFree(slot->context);
    slot->context = nullptr;
  }
  slot->in_use = false;
}

absl::Status RedisPool::EnsureConnected(Slot& slot) {
  if (slot.context && (slot.context->err || PeerClosed(*slot.context))) {
    redisFree(slot.context);
    slot.context = nullptr;
  }
  if (slot.context) return absl::OkStatus();
  timeval connect_timeout = absl::ToTimeval(options_.connect_timeout);
  redisContext* context =
      options_.address.unix_socket.empty()
          ? redisConnectWithTimeout(options_.address.tcp.host.c_str(), options_.address.tcp.port,
                                    connect_timeout)
          : redisConnectUnixWithTimeout(options_.address.unix_socket.c_str(), connect_timeout);
  if (!context) return absl::ResourceExhaustedError("redis: cannot allocate a connection");
  if (context->err) {
    absl::Status status = absl::UnavailableError(
        absl::StrCat("redis at ", options_.address.ToString(), " unreachable: ", context->errstr));
    redisFree(context);
    return status;
  }
  redisSetTimeout(context, absl::ToTimeval(options_.command_timeout));
  if (options_.address.unix_socket.empty()) redisEnableKeepAlive(context);
  slot.context = context;
  return absl::OkStatus();
}

absl::StatusOr<Reply> RedisPool::Execute(const Command& command) {
  auto replies = Pipeline({command});
  if (!replies.ok()) return replies.status();
  Reply& reply = replies->front();
  if (reply.type == Reply::Type::kError) return ErrorReplyStatus(reply.str);
  return std::move(reply);
}

absl::StatusOr<std::vector<Reply>> RedisPool::Pipeline(const std::vector<Command>& commands) {
  auto slot = Acquire();
  if (!slot.ok()) return slot.status();
  Lease lease(*this, *slot);
  if (absl::Status s = EnsureConnected(**slot); !s.ok()) return s;
  redisContext* context = lease.context();
  std::vector<size_t> lengths;
  for (const auto& command : commands) {
    auto argv = ArgvOf(command, lengths);
    if (redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) != REDIS_OK) {
      lease.MarkBroken();
      return ContextError(*context, options_.address);
    }
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context, &raw) != REDIS_OK || raw == nullptr) {
      lease.MarkBroken();
      return ContextError(*context, options_.address);
    }
    auto* reply = static_cast<redisReply*>(raw);
    replies.push_back(Reply::FromHiredis(*reply));
    freeReplyObject(reply);
  }
  return replies;
}

absl::Status RedisPool::Ping() {
  auto reply = Execute({"PING"});
  if (!reply.ok()) return reply.status();
  return absl::OkStatus();
}

}  // namespace signpost::redis

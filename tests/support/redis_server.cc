#include "tests/support/redis_server.h"

#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include <hiredis/hiredis.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/free_port.h"

extern char** environ;

namespace signpost::testing {

RedisServer::RedisServer(bool append_only) : append_only_(append_only) {
  char pattern[] = "/tmp/signpost-redis-XXXXXX";
  dir_ = mkdtemp(pattern);
}

RedisServer::~RedisServer() {
  Stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string RedisServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::Status RedisServer::Start() {
  if (pid_ > 0) return absl::OkStatus();
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (port_ == 0 || attempt > 0) port_ = FreePort();
    std::vector<std::string> args = {"redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     dir_,
                                     "--save",
                                     "",
                                     "--appendonly",
                                     append_only_ ? "yes" : "no",
                                     "--appendfsync",
                                     "always",
                                     "--logfile",
                                     dir_ + "/redis.log"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) {
      return absl::FailedPreconditionError("cannot start redis-server: is it installed?");
    }
    absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (absl::Now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: port taken, try another
        pid_ = -1;
        break;
      }
      timeval tv{0, 200000};
      redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
      bool up = false;
      if (c && !c->err) {
        auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
        up = reply && reply->type == REDIS_REPLY_STATUS;
        if (reply) freeReplyObject(reply);
      }
      if (c) redisFree(c);
      if (up) return absl::OkStatus();
      absl::SleepFor(absl::Milliseconds(20));
    }
    if (pid_ > 0) Stop(true);
    if (attempt == 0 && port_ != 0) continue;
  }
  return absl::UnavailableError("redis-server did not come up");
}

void RedisServer::Stop(bool crash) {
  if (pid_ <= 0) return;
  kill(pid_, crash ? SIGKILL : SIGTERM);
  if (suspended_) Resume();  // a stopped process would not act on SIGTERM
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void RedisServer::Suspend() {
  if (pid_ <= 0) return;
  kill(pid_, SIGSTOP);
  suspended_ = true;
}

void RedisServer::Resume() {
  if (pid_ <= 0) return;
  kill(pid_, SIGCONT);
  suspended_ = false;
}

}  // namespace signpost::testing

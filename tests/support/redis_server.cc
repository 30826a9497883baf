#include "tests/support/redis_server.h"

#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include <hiredis/hiredis.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/support/free_port.h"

extern char** environ;

namespace signpost::testing {
namespace {

redisReply* SendArgv(redisContext* context, const std::vector<std::string>& command) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& arg : command) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
}

// `text` as one redis.conf argument, whatever spaces or quotes it holds.
std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<redis::Reply> RunRedisCommand(int port, const std::vector<std::string>& command,
                                             const std::string& username,
                                             const std::string& password, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (!context) return absl::ResourceExhaustedError("cannot allocate a redis connection");
  if (context->err) {
    absl::Status status =
        absl::UnavailableError(absl::StrCat("127.0.0.1:", port, ": ", context->errstr));
    redisFree(context);
    return status;
  }
  redisSetTimeout(context, tv);
  if (!password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!username.empty()) auth.push_back(username);
    auth.push_back(password);
    redisReply* reply = SendArgv(context, auth);
    if (reply) freeReplyObject(reply);
  }
  redisReply* reply = SendArgv(context, command);
  if (!reply) {
    absl::Status status =
        absl::UnavailableError(absl::StrCat("127.0.0.1:", port, ": ", context->errstr));
    redisFree(context);
    return status;
  }
  redis::Reply out = redis::Reply::FromHiredis(*reply);
  freeReplyObject(reply);
  redisFree(context);
  return out;
}

RedisServer::RedisServer(bool append_only)
    : RedisServer(RedisServerOptions{.append_only = append_only}) {}

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) {
  char pattern[] = "/tmp/signpost-redis-XXXXXX";
  dir_ = mkdtemp(pattern);
}

RedisServer::~RedisServer() {
  Stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string RedisServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

void RedisServer::WriteConfig() const {
  std::vector<std::string> lines = {
      absl::StrCat("port ", port_),
      "bind 127.0.0.1",
      absl::StrCat("dir ", dir_),
      absl::StrCat("logfile ", dir_, "/redis.log"),
      "daemonize no",
  };
  if (!options_.sentinel) {
    lines.push_back("save \"\"");
    lines.push_back(absl::StrCat("appendonly ", options_.append_only ? "yes" : "no"));
    lines.push_back("appendfsync always");
  }
  if (!options_.password.empty()) {
    if (options_.username.empty()) {
      lines.push_back(absl::StrCat("requirepass ", Quoted(options_.password)));
    } else {
      lines.push_back("user default off");
      lines.push_back(absl::StrCat("user ", options_.username, " on ",
                                   Quoted(">" + options_.password), " ~* &* +@all"));
    }
    // For a primary too: Sentinel may turn any data server into a replica later.
    if (!options_.sentinel) {
      if (!options_.username.empty()) {
        lines.push_back(absl::StrCat("masteruser ", options_.username));
      }
      lines.push_back(absl::StrCat("masterauth ", Quoted(options_.password)));
    }
  }
  if (!options_.replica_of.empty()) {
    std::string host_port = options_.replica_of;
    const size_t colon = host_port.rfind(':');
    lines.push_back(
        absl::StrCat("replicaof ", host_port.substr(0, colon), " ", host_port.substr(colon + 1)));
  }
  for (const auto& line : options_.extra_config) lines.push_back(line);
  std::ofstream(dir_ + "/redis.conf", std::ios::trunc) << absl::StrJoin(lines, "\n") << "\n";
}

absl::StatusOr<redis::Reply> RedisServer::Run(const std::vector<std::string>& command,
                                              int timeout_ms) const {
  return RunRedisCommand(port_, command, options_.username, options_.password, timeout_ms);
}

absl::Status RedisServer::Start() {
  if (pid_ > 0) return absl::OkStatus();
  for (int attempt = 0; attempt < 5; ++attempt) {
    // A restart keeps the port and redis.conf (which Sentinel may have rewritten).
    if (port_ == 0 || attempt > 0) {
      port_ = FreePort();
      WriteConfig();
    }
    std::vector<std::string> args = {"redis-server", dir_ + "/redis.conf"};
    if (options_.sentinel) args.push_back("--sentinel");
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
      auto reply = Run({"PING"}, 200);
      if (reply.ok() && reply->type == redis::Reply::Type::kStatus) return absl::OkStatus();
      absl::SleepFor(absl::Milliseconds(20));
    }
    if (pid_ > 0) Stop(true);
  }
  return absl::UnavailableError("redis-server did not come up");
}

void RedisServer::Stop(bool crash) {
  if (pid_ <= 0) return;
  kill(pid_, crash ? SIGKILL : SIGTERM);
  if (suspended_) Resume();  // a stopped process would not act on SIGTERM
  int status = 0;
  // Redis refuses a SIGTERM while it writes the first AOF after a sync from a new primary
  // ("Writing initial AOF, can't exit.") and goes on running: ask again until it exits, and kill
  // it if it still runs after fifteen seconds (a primary waits up to ten for its replicas).
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
    if (!crash) kill(pid_, SIGTERM);
  }
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

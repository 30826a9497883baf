// The host and a real service binary against a real redis-server that requires a password:
// refused credentials end the start with one clear message (exit 1), an unreadable password file
// is a configuration error (exit 2), and a Redis that is merely unreachable does not stop the
// start (readiness reports it, as before).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/service/service_host.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_server.h"
#include "tests/support/service_process.h"

extern char** environ;

namespace signpost {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUser[] = "signpost";
constexpr char kPassword[] = "the-right-password";

class ServiceHostRedisTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()); }

  // A password file in the server's folder.
  std::string PasswordFile(const std::string& password) {
    const std::string path = absl::StrCat(server_.dir(), "/password-", ++files_);
    std::ofstream(path) << password << "\n";
    return path;
  }

  CommonConfig Config(const std::string& password_file) {
    CommonConfig config;
    config.tls.insecure = true;
    config.auth.no_auth = true;
    config.redis = server_.address();
    config.redis_access.username = kUser;
    config.redis_access.password_file = password_file;
    return config;
  }

  // Runs a host whose wiring asks for the shared pool and registers one component; returns
  // the exit code, and whether the component started in `started`.
  int RunHost(const CommonConfig& config, bool& started) {
    started = false;
    HostOptions options;
    options.handle_signals = false;
    options.grace = absl::Milliseconds(100);
    options.wait_for_stop = [] { return 15; };
    return ServiceHost::Main(
        "test-service", config,
        [&started](ServiceHost& host) {
          auto redis = host.Redis();
          if (!redis.ok()) return redis.status();
          host.AddComponent("recorder", [&started] {
            started = true;
            return absl::OkStatus();
          });
          return absl::OkStatus();
        },
        options);
  }

  testing::RedisServer server_{
      testing::RedisServerOptions{.username = kUser, .password = kPassword}};
  int files_ = 0;
};

TEST_F(ServiceHostRedisTest, TheRightPasswordStarts) {
  bool started = false;
  EXPECT_EQ(RunHost(Config(PasswordFile(kPassword)), started), kExitStopped);
  EXPECT_TRUE(started);
}

TEST_F(ServiceHostRedisTest, AWrongPasswordEndsTheStartBeforeAnyComponent) {
  bool started = false;
  EXPECT_EQ(RunHost(Config(PasswordFile("not-it")), started), kExitStartFailed);
  EXPECT_FALSE(started);
}

TEST_F(ServiceHostRedisTest, AnUnreadablePasswordFileIsABadConfiguration) {
  bool started = false;
  EXPECT_EQ(RunHost(Config("/no/such/password-file"), started), kExitBadConfiguration);
  EXPECT_FALSE(started);
}

TEST_F(ServiceHostRedisTest, AnUnreachableRedisDoesNotStopTheStart) {
  CommonConfig config = Config(PasswordFile(kPassword));
  config.redis = absl::StrCat("127.0.0.1:", testing::FreePort());
  bool started = false;
  EXPECT_EQ(RunHost(config, started), kExitStopped);
  EXPECT_TRUE(started);
}

// A service binary run to its end: its exit status and everything it printed.
struct Ended {
  int status = -1;
  std::string log;
};

Ended RunToEnd(const std::string& binary, const std::vector<std::string>& args,
               absl::Duration timeout) {
  char pattern[] = "/tmp/signpost-redis-start-XXXXXX";
  const std::string log = std::string(mkdtemp(pattern)) + "/log";
  std::vector<std::string> all = {testing::BinaryPath(binary)};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  Ended ended;
  if (rc != 0) return ended;
  const absl::Time deadline = absl::Now() + timeout;
  while (waitpid(pid, &ended.status, WNOHANG) != pid) {
    if (absl::Now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &ended.status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  ended.log = text.str();
  return ended;
}

TEST_F(ServiceHostRedisTest, AServiceWithAWrongPasswordExitsOneNamingRedisAndTheUser) {
  Ended ended = RunToEnd(
      "signpost-matching",
      {"--insecure", "--no-auth", "--kafka-bootstrap",
       absl::StrCat("127.0.0.1:", testing::FreePort()), "--redis", server_.address(),
       "--redis-username", kUser, "--redis-password-file", PasswordFile("wrong-password-123")},
      absl::Seconds(60));
  ASSERT_TRUE(WIFEXITED(ended.status)) << ended.log;
  EXPECT_EQ(WEXITSTATUS(ended.status), kExitStartFailed) << ended.log;
  EXPECT_THAT(ended.log,
              HasSubstr(absl::StrCat("start-up failed: redis at ", server_.address(),
                                     ": authentication as user 'signpost' refused: WRONGPASS")));
  EXPECT_THAT(ended.log, Not(HasSubstr("wrong-password-123")));
}

TEST_F(ServiceHostRedisTest, AServiceWithoutAPasswordForARedisThatNeedsOneExitsOne) {
  Ended ended =
      RunToEnd("signpost-matching",
               {"--insecure", "--no-auth", "--kafka-bootstrap",
                absl::StrCat("127.0.0.1:", testing::FreePort()), "--redis", server_.address()},
               absl::Seconds(60));
  ASSERT_TRUE(WIFEXITED(ended.status)) << ended.log;
  EXPECT_EQ(WEXITSTATUS(ended.status), kExitStartFailed) << ended.log;
  EXPECT_THAT(ended.log, HasSubstr("requires authentication and none is configured"));
}

}  // namespace
}  // namespace signpost

#include "common/service/service_host.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "signpost/v1/ops_service.grpc.pb.h"
#include "tests/support/taken_port.h"

namespace signpost {
namespace {

// Settings that pass the common checks without Kafka, Redis, certificates or tokens.
CommonConfig TestConfig() {
  CommonConfig config;
  config.tls.insecure = true;
  config.auth.no_auth = true;
  config.listen = "127.0.0.1:0";
  config.metrics_listen = "127.0.0.1:0";
  return config;
}

// What happened, in order.
struct Journal {
  std::vector<std::string> entries;
  void Add(std::string entry) { entries.push_back(std::move(entry)); }
};

// A component that writes its start and stop to the journal; its start fails when told.
void AddRecorded(ServiceHost& host, Journal& journal, const std::string& name,
                 absl::Status start = absl::OkStatus()) {
  host.AddComponent(
      name,
      [&journal, name, start] {
        journal.Add("start " + name);
        return start;
      },
      [&journal, name] { journal.Add("stop " + name); });
}

HostOptions StopAtOnce(Journal& journal) {
  HostOptions options;
  options.handle_signals = false;
  options.grace = absl::Milliseconds(100);
  options.wait_for_stop = [&journal] {
    journal.Add("running");
    return 15;
  };
  return options;
}

using ::signpost::testing::TakenPort;

TEST(ServiceHostTest, StartsComponentsThenHttpThenGrpcAndStopsInReverse) {
  Journal journal;
  v1::OpsService::CallbackService ops;  // only registered: no call is made
  int code = ServiceHost::Main(
      "test-service", TestConfig(),
      [&](ServiceHost& host) {
        AddRecorded(host, journal, "first");
        host.AddComponent(
            "second",
            [&] {
              // Components start before the listeners.
              journal.Add(absl::StrCat("start second, http ", host.http_port() > 0 ? "up" : "down",
                                       ", grpc ", host.grpc_port() > 0 ? "up" : "down"));
              return absl::OkStatus();
            },
            [&] {
              // ... and stop after them.
              journal.Add(
                  absl::StrCat("stop second, grpc ", host.grpc_port() > 0 ? "kept" : "gone"));
            });
        host.AddComponent(
            "third",
            [&] {
              journal.Add("start third");
              return absl::OkStatus();
            },
            [&] { journal.Add("stop third"); });
        host.AddGrpcService(&ops);
        host.AddDrainStep([&] {
          journal.Add(absl::StrCat("drain, http ", host.http_port() > 0 ? "up" : "down", ", grpc ",
                                   host.grpc_port() > 0 ? "up" : "down"));
        });
        return absl::OkStatus();
      },
      StopAtOnce(journal));
  EXPECT_EQ(code, kExitStopped);
  EXPECT_EQ(journal.entries,
            (std::vector<std::string>{"start first", "start second, http down, grpc down",
                                      "start third", "running", "drain, http up, grpc up",
                                      "stop third", "stop second, grpc kept", "stop first"}));
}

TEST(ServiceHostTest, AComponentThatFailsToStartStopsWhatStartedAndExitsOne) {
  Journal journal;
  CommonConfig config = TestConfig();
  const std::string port_file =
      (std::filesystem::temp_directory_path() / absl::StrCat("host-test-", getpid(), ".port"))
          .string();
  std::filesystem::remove(port_file);
  config.metrics_port_file = port_file;
  int code = ServiceHost::Main(
      "test-service", config,
      [&](ServiceHost& host) {
        AddRecorded(host, journal, "first");
        AddRecorded(host, journal, "second");
        AddRecorded(host, journal, "broken", absl::UnavailableError("no broker"));
        AddRecorded(host, journal, "never");
        return absl::OkStatus();
      },
      StopAtOnce(journal));
  EXPECT_EQ(code, kExitStartFailed);
  EXPECT_EQ(journal.entries,
            (std::vector<std::string>{"start first", "start second", "start broken", "stop second",
                                      "stop first"}));
  EXPECT_FALSE(std::filesystem::exists(port_file)) << "the HTTP endpoint must not have started";
}

TEST(ServiceHostTest, AListenerThatCannotStartStopsTheComponentsAndExitsOne) {
  Journal journal;
  TakenPort taken;
  CommonConfig config = TestConfig();
  config.listen = taken.address();
  v1::OpsService::CallbackService ops;
  int code = ServiceHost::Main(
      "test-service", config,
      [&](ServiceHost& host) {
        AddRecorded(host, journal, "first");
        AddRecorded(host, journal, "second");
        host.AddGrpcService(&ops);
        return absl::OkStatus();
      },
      StopAtOnce(journal));
  EXPECT_EQ(code, kExitStartFailed);
  EXPECT_EQ(journal.entries,
            (std::vector<std::string>{"start first", "start second", "stop second", "stop first"}));
}

TEST(ServiceHostTest, ABadCommonSettingExitsTwoBeforeWiring) {
  Journal journal;
  CommonConfig config = TestConfig();
  config.log_format = "xml";
  int code = ServiceHost::Main(
      "test-service", config,
      [&](ServiceHost&) {
        journal.Add("wired");
        return absl::OkStatus();
      },
      StopAtOnce(journal));
  EXPECT_EQ(code, kExitBadConfiguration);
  EXPECT_TRUE(journal.entries.empty());
}

TEST(ServiceHostTest, AWiringErrorExitsTwoForConfigurationAndOneOtherwise) {
  for (const auto& [error, expected] : std::vector<std::pair<absl::Status, int>>{
           {ConfigurationError(absl::InvalidArgumentError("--top-k: too many")),
            kExitBadConfiguration},
           {absl::UnavailableError("redis down"), kExitStartFailed},
           {absl::InvalidArgumentError("an unreadable record"), kExitStartFailed}}) {
    Journal journal;
    int code = ServiceHost::Main(
        "test-service", TestConfig(),
        [&, error = error](ServiceHost& host) {
          AddRecorded(host, journal, "registered before the error");
          return error;
        },
        StopAtOnce(journal));
    EXPECT_EQ(code, expected) << error;
    EXPECT_TRUE(journal.entries.empty()) << "nothing starts when the wiring fails: " << error;
  }
}

TEST(ServiceHostTest, AKeyringThatCannotBeReadIsABadConfiguration) {
  Journal journal;
  int code = ServiceHost::Main(
      "test-service", TestConfig(),
      [](ServiceHost& host) { return host.Cipher("/no/such/keyring").status(); },
      StopAtOnce(journal));
  EXPECT_EQ(code, kExitBadConfiguration);
  EXPECT_TRUE(journal.entries.empty());
}

TEST(ServiceHostTest, ServesItsPagesAndReadinessWhileRunning) {
  std::string ready_body, page_body;
  int ready_status = 0;
  HostOptions options;
  options.handle_signals = false;
  ServiceHost* running = nullptr;
  options.wait_for_stop = [&] {
    httplib::Client client("127.0.0.1", running->http_port());
    if (auto ready = client.Get("/readyz")) {
      ready_status = ready->status;
      ready_body = ready->body;
    }
    if (auto page = client.Get("/hello")) page_body = page->body;
    return 15;
  };
  ServiceHost host("test-service", TestConfig(), options);
  running = &host;
  int code = host.Run([](ServiceHost& h) {
    h.AddReadinessCheck([] { return absl::UnavailableError("directory cache loading"); });
    h.AddReadinessCheck([] { return absl::UnavailableError("never asked"); });
    h.AddPage("/hello", [](const metrics::HttpEndpoint::Params&) {
      return metrics::HttpEndpoint::Page{200, "text/plain", "hello"};
    });
    return absl::OkStatus();
  });
  EXPECT_EQ(code, kExitStopped);
  EXPECT_EQ(ready_status, 503);
  EXPECT_NE(ready_body.find("directory cache loading"), std::string::npos) << ready_body;
  EXPECT_EQ(ready_body.find("never asked"), std::string::npos) << ready_body;
  EXPECT_EQ(page_body, "hello");
}

// Writes one event, then waits until its maximum duration ends it.
class OneEventStream final : public metrics::HttpEndpoint::Stream {
 public:
  bool Next(metrics::HttpEndpoint::StreamWriter& writer, absl::Duration wait) override {
    if (!written_) {
      written_ = true;
      return writer.Write("data: hi\n\n");
    }
    absl::SleepFor(wait);
    return true;
  }

 private:
  bool written_ = false;
};

TEST(ServiceHostTest, ServesItsStreamsWithinTheirBounds) {
  std::string streamed, second_body;
  int second_status = 0, open_while_streaming = 0;
  HostOptions options;
  options.handle_signals = false;
  ServiceHost* running = nullptr;
  options.wait_for_stop = [&] {
    std::thread reader([&] {
      httplib::Client client("127.0.0.1", running->http_port());
      if (auto stream = client.Get("/events")) streamed = stream->body;
    });
    for (int i = 0; i < 1000 && running->open_http_streams() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    open_while_streaming = running->open_http_streams();
    httplib::Client client("127.0.0.1", running->http_port());
    if (auto second = client.Get("/events")) {
      second_status = second->status;
      second_body = second->body;
    }
    reader.join();  // the stream's maximum duration ends it
    return 15;
  };
  ServiceHost host("test-service", TestConfig(), options);
  running = &host;
  int code = host.Run([](ServiceHost& h) {
    h.AddStream(
        "/events",
        [](const metrics::HttpEndpoint::Request&)
            -> std::variant<metrics::HttpEndpoint::Response,
                            std::unique_ptr<metrics::HttpEndpoint::Stream>> {
          return std::make_unique<OneEventStream>();
        },
        [](const metrics::HttpEndpoint::Request&) { return std::string("someone"); });
    h.SetStreamBounds({.max_streams = 1, .max_duration = absl::Seconds(1)});
    return absl::OkStatus();
  });
  EXPECT_EQ(code, kExitStopped);
  EXPECT_EQ(open_while_streaming, 1);
  EXPECT_EQ(second_status, 503) << second_body;
  EXPECT_EQ(streamed, "data: hi\n\n");
}

TEST(ServiceHostTest, TheWiringsObjectsOutliveTheStopAndGoInReverse) {
  Journal journal;
  struct Recorded {
    Recorded(Journal& journal, std::string name) : journal(journal), name(std::move(name)) {}
    ~Recorded() { journal.Add("destroy " + name); }
    Journal& journal;
    std::string name;
  };
  {
    ServiceHost host("test-service", TestConfig(), StopAtOnce(journal));
    EXPECT_EQ(host.Run([&](ServiceHost& h) {
      Recorded& store = h.Make<Recorded>(journal, "store");
      h.Make<Recorded>(journal, "service");
      h.AddComponent("store user", nullptr,
                     [&journal, &store] { journal.Add("stop uses " + store.name); });
      return absl::OkStatus();
    }),
              kExitStopped);
  }
  EXPECT_EQ(journal.entries, (std::vector<std::string>{"running", "stop uses store",
                                                       "destroy service", "destroy store"}));
}

// Objects with Start (given arguments, returning void or a status) and Stop are components as
// they are.
TEST(ServiceHostTest, AnObjectWithStartAndStopIsAComponent) {
  Journal journal;
  struct Ticker {
    Journal& journal;
    void Start(absl::Duration every) {
      journal.Add(absl::StrCat("tick every ", absl::FormatDuration(every)));
    }
    void Stop() { journal.Add("ticker stopped"); }
  };
  struct Refuser {
    Journal& journal;
    absl::Status Start() { return absl::UnavailableError("refused"); }
    void Stop() { journal.Add("refuser stopped"); }
  };
  Ticker ticker{journal};
  Refuser refuser{journal};
  int code = ServiceHost::Main(
      "test-service", TestConfig(),
      [&](ServiceHost& host) {
        host.AddComponent("ticker", ticker, absl::Seconds(2));
        host.AddComponent("refuser", refuser);
        return absl::OkStatus();
      },
      StopAtOnce(journal));
  EXPECT_EQ(code, kExitStartFailed);
  EXPECT_EQ(journal.entries, (std::vector<std::string>{"tick every 2s", "ticker stopped"}));
}

TEST(ServiceHostTest, ExitCodes) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), kExitStopped);
  EXPECT_TRUE(ConfigurationError(absl::OkStatus()).ok());
  EXPECT_EQ(ExitCodeFor(ConfigurationError(absl::NotFoundError("--data-keys: no file"))),
            kExitBadConfiguration);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("redis")), kExitStartFailed);
}

}  // namespace
}  // namespace signpost

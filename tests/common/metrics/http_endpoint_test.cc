#include "common/metrics/http_endpoint.h"

#include <httplib.h>

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "tests/support/wait_until.h"

namespace signpost::metrics {
namespace {

using ::signpost::testing::WaitUntil;
using ::testing::HasSubstr;

TEST(HttpEndpointTest, ServesMetricsHealthAndReadiness) {
  Registry registry;
  registry.GetCounter("signpost_requests_total", "Requests").Increment();
  std::atomic<bool> ready{false};
  HttpEndpoint endpoint(registry, [&ready]() {
    return ready.load() ? absl::OkStatus() : absl::UnavailableError("kafka not reachable");
  });
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  ASSERT_GT(*port, 0);

  httplib::Client client("127.0.0.1", *port);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->body, HasSubstr("signpost_requests_total 1"));
  EXPECT_THAT(metrics->get_header_value("Content-Type"), HasSubstr("text/plain"));

  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  auto not_ready = client.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_THAT(not_ready->body, HasSubstr("kafka not reachable"));

  ready = true;
  auto now_ready = client.Get("/readyz");
  ASSERT_TRUE(now_ready);
  EXPECT_EQ(now_ready->status, 200);
  endpoint.Stop();
}

TEST(HttpEndpointTest, BadListenAddressIsAnError) {
  Registry registry;
  HttpEndpoint endpoint(registry, nullptr);
  EXPECT_EQ(endpoint.Start("nonsense").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpEndpointTest, PagesAndRoutesCarryTheirHeaders) {
  Registry registry;
  HttpEndpoint endpoint(registry, nullptr);
  endpoint.AddPage("/app/", [](const HttpEndpoint::Params&) {
    return HttpEndpoint::Page{
        .content_type = "text/html; charset=utf-8",
        .body = "<!doctype html>",
        .headers = {{"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"},
                    {"X-Content-Type-Options", "nosniff"},
                    {"Referrer-Policy", "no-referrer"},
                    {"Cache-Control", "no-store"}}};
  });
  endpoint.AddRoute(HttpEndpoint::Method::kGet, "/app/api/me", [](const HttpEndpoint::Request&) {
    return HttpEndpoint::Response{.content_type = "application/json",
                                  .body = "{}",
                                  .headers = {{"Cache-Control", "no-store"}}};
  });
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  httplib::Client client("127.0.0.1", *port);
  auto page = client.Get("/app/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<!doctype html>");
  EXPECT_EQ(page->get_header_value("Content-Security-Policy"),
            "default-src 'self'; frame-ancestors 'none'");
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page->get_header_value("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(page->get_header_value("Cache-Control"), "no-store");
  auto route = client.Get("/app/api/me");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->get_header_value("Cache-Control"), "no-store");
  endpoint.Stop();
}

// --- Server-sent event streams ---------------------------------------------------------------

// What one test stream is told to write, and what became of it.
struct Script {
  absl::Mutex mu;
  std::deque<std::string> pending ABSL_GUARDED_BY(mu);
  bool finish ABSL_GUARDED_BY(mu) = false;
  absl::Duration longest_wait ABSL_GUARDED_BY(mu);
  std::atomic<bool> destroyed{false};

  void Send(std::string event) {
    absl::MutexLock lock(&mu);
    pending.push_back(std::move(event));
  }
  void Finish() {
    absl::MutexLock lock(&mu);
    finish = true;
  }
};

// Writes its script's events as they come; ends when the script says so.
class ScriptedStream final : public HttpEndpoint::Stream {
 public:
  explicit ScriptedStream(std::shared_ptr<Script> script) : script_(std::move(script)) {}
  ~ScriptedStream() override { script_->destroyed.store(true); }

  bool Next(HttpEndpoint::StreamWriter& writer, absl::Duration wait) override {
    Script& s = *script_;
    absl::MutexLock lock(&s.mu);
    s.longest_wait = std::max(s.longest_wait, wait);
    s.mu.AwaitWithTimeout(absl::Condition(
                              +[](Script* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
                                return !s->pending.empty() || s->finish;
                              },
                              &s),
                          wait);
    while (!s.pending.empty()) {
      if (!writer.Write(s.pending.front())) return false;
      s.pending.pop_front();
    }
    return !s.finish;
  }

 private:
  std::shared_ptr<Script> script_;
};

// Every stream an endpoint opened, in order; its owner is the request's ?who= (default "a").
class Scripts {
 public:
  void AddTo(HttpEndpoint& endpoint) {
    endpoint.AddStream(
        "/events",
        [this](const HttpEndpoint::Request& request)
            -> std::variant<HttpEndpoint::Response, std::unique_ptr<HttpEndpoint::Stream>> {
          if (request.authorization != "Bearer ok") {
            return HttpEndpoint::Response{.status = 401,
                                          .content_type = "application/json",
                                          .body = R"({"code":"UNAUTHENTICATED"})"};
          }
          auto script = std::make_shared<Script>();
          absl::MutexLock lock(&mu_);
          scripts_.push_back(script);
          return std::make_unique<ScriptedStream>(script);
        },
        [](const HttpEndpoint::Request& request) {
          auto who = request.params.find("who");
          return who == request.params.end() ? std::string("a") : who->second;
        },
        {{"X-Content-Type-Options", "nosniff"}});
  }
  std::shared_ptr<Script> at(size_t i) {
    absl::MutexLock lock(&mu_);
    return i < scripts_.size() ? scripts_[i] : nullptr;
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return scripts_.size();
  }
  void FinishAll() {
    absl::MutexLock lock(&mu_);
    for (auto& script : scripts_) script->Finish();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::shared_ptr<Script>> scripts_ ABSL_GUARDED_BY(mu_);
};

// A client reading one stream on a thread of its own, as a browser's fetch() does.
class StreamReader {
 public:
  StreamReader(std::string base_url, std::string path, httplib::Headers headers = {},
               std::string ca = "")
      : client_(std::make_unique<httplib::Client>(base_url)) {
    if (!ca.empty()) client_->set_ca_cert_path(ca.c_str());
    client_->set_read_timeout(60, 0);
    headers.emplace("Authorization", "Bearer ok");
    thread_ = std::thread([this, path, headers] {
      auto result = client_->Get(
          path.c_str(), headers,
          [this](const httplib::Response& response) {
            absl::MutexLock lock(&mu_);
            status_ = response.status;
            headers_ = response.headers;
            return true;
          },
          [this](const char* data, size_t length) {
            absl::MutexLock lock(&mu_);
            body_.append(data, length);
            return !hang_up_.load();
          });
      absl::MutexLock lock(&mu_);
      if (result) {
        status_ = result->status;
        if (body_.empty()) body_ = result->body;
        headers_ = result->headers;
      }
      error_ = result.error();
      done_ = true;
    });
  }
  // Closes the connection if it is still open (a test that failed part way), so that it never
  // waits for a stream that will not end.
  ~StreamReader() {
    if (!done()) client_->stop();
    thread_.join();
  }

  std::string body() {
    absl::MutexLock lock(&mu_);
    return body_;
  }
  int status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  std::string header(const std::string& name) {
    absl::MutexLock lock(&mu_);
    auto it = headers_.find(name);
    return it == headers_.end() ? "" : it->second;
  }
  bool done() {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  httplib::Error error() {
    absl::MutexLock lock(&mu_);
    return error_;
  }
  // Stops reading at the next data and closes the connection, as a closed tab does.
  void HangUp() { hang_up_.store(true); }

 private:
  absl::Mutex mu_;
  std::string body_ ABSL_GUARDED_BY(mu_);
  int status_ ABSL_GUARDED_BY(mu_) = 0;
  httplib::Headers headers_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  httplib::Error error_ ABSL_GUARDED_BY(mu_) = httplib::Error::Success;
  std::atomic<bool> hang_up_{false};
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
};

std::string Url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

TEST(HttpEndpointStreamTest, DeliversEachEventAsWrittenOverTlsEvenWhenGzipIsAccepted) {
  // A local CA and server certificate, made by tools/tls as tools/run makes them.
  std::string tls = ::testing::TempDir() + "/http-endpoint-tls-" + std::to_string(getpid());
  ASSERT_EQ(std::system((std::string(SIGNPOST_SOURCE_DIR) + "/tools/tls make " + tls).c_str()), 0);
  Registry registry;
  HttpEndpoint endpoint(registry, nullptr);
  Scripts scripts;
  scripts.AddTo(endpoint);
  auto port =
      endpoint.Start("127.0.0.1:0", {.cert = tls + "/server.pem", .key = tls + "/server.key"});
  ASSERT_TRUE(port.ok()) << port.status();

  const std::string first = "event: task\ndata: {\"n\":1}\nid: r1\n\n";
  const std::string second = "event: task\ndata: {\"n\":2}\nid: r2\n\n";
  {
    StreamReader reader("https://localhost:" + std::to_string(*port), "/events",
                        {{"Accept-Encoding", "gzip, deflate, br"}}, tls + "/ca.pem");
    ASSERT_TRUE(WaitUntil([&] { return scripts.size() == 1; }, absl::Seconds(10)));
    scripts.at(0)->Send(first);
    // Each event reaches the client while the stream is still open, not when it ends.
    EXPECT_TRUE(WaitUntil([&] { return reader.body() == first; }, absl::Seconds(10)))
        << "received so far: " << reader.body();
    scripts.at(0)->Send(second);
    EXPECT_TRUE(WaitUntil([&] { return reader.body() == first + second; }, absl::Seconds(10)))
        << "received so far: " << reader.body();
    EXPECT_FALSE(reader.done());
    EXPECT_EQ(reader.status(), 200);
    EXPECT_EQ(reader.header("Content-Type"), "text/event-stream");
    EXPECT_EQ(reader.header("Content-Encoding"), "");
    EXPECT_EQ(reader.header("Cache-Control"), "no-store");
    EXPECT_EQ(reader.header("X-Content-Type-Options"), "nosniff");
    scripts.FinishAll();
    ASSERT_TRUE(WaitUntil([&] { return reader.done(); }, absl::Seconds(10)));
    EXPECT_EQ(reader.error(), httplib::Error::Success);  // the body ended cleanly
    EXPECT_EQ(reader.body(), first + second);
  }
  EXPECT_TRUE(WaitUntil([&] { return endpoint.open_streams() == 0; }, absl::Seconds(10)));
  EXPECT_TRUE(scripts.at(0)->destroyed.load());
  endpoint.Stop();
}

TEST(HttpEndpointStreamTest, OpenMayAnswerPlainly) {
  Registry registry;
  HttpEndpoint endpoint(registry, nullptr);
  Scripts scripts;
  scripts.AddTo(endpoint);
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  httplib::Client client("127.0.0.1", *port);
  auto refused = client.Get("/events", {{"Authorization", "Bearer wrong"}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->body, R"({"code":"UNAUTHENTICATED"})");
  EXPECT_EQ(scripts.size(), 0u);
  EXPECT_EQ(endpoint.open_streams(), 0);
  endpoint.Stop();
}

TEST(HttpEndpointStreamTest, RefusesAStreamBeyondTheBoundWhileRoutesStillAnswer) {
  Registry registry;
  Gauge& gauge = registry.GetGauge("signpost_test_streams", "Open streams");
  HttpEndpoint endpoint(registry, nullptr);
  Scripts scripts;
  scripts.AddTo(endpoint);
  endpoint.AddRoute(HttpEndpoint::Method::kGet, "/route", [](const HttpEndpoint::Request&) {
    return HttpEndpoint::Response{.content_type = "text/plain", .body = "answered"};
  });
  // As many streams as the listener has threads of its own: were the streams not given threads
  // of their own, they would hold every one and the route would wait for ever.
  const int max_streams = HttpEndpoint::kListenerThreads;
  endpoint.SetStreamBounds({.max_streams = max_streams, .open_streams = &gauge});
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();

  std::vector<std::unique_ptr<StreamReader>> readers;
  for (int i = 0; i < max_streams; ++i) {
    readers.push_back(
        std::make_unique<StreamReader>(Url(*port), "/events?who=" + std::to_string(i)));
  }
  ASSERT_TRUE(WaitUntil([&] { return endpoint.open_streams() == max_streams; }, absl::Seconds(20)))
      << endpoint.open_streams();
  EXPECT_EQ(gauge.Value(), max_streams);

  httplib::Client client("127.0.0.1", *port);
  client.set_read_timeout(10, 0);
  auto route = client.Get("/route");
  ASSERT_TRUE(route) << httplib::to_string(route.error());
  EXPECT_EQ(route->status, 200);
  EXPECT_EQ(route->body, "answered");
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);

  auto refused = client.Get("/events?who=another", {{"Authorization", "Bearer ok"}});
  ASSERT_TRUE(refused) << httplib::to_string(refused.error());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(refused->get_header_value("Retry-After"), "5");
  EXPECT_THAT(refused->body, HasSubstr(R"("code":"UNAVAILABLE")"));
  EXPECT_EQ(endpoint.open_streams(), max_streams);
  for (auto& reader : readers) EXPECT_FALSE(reader->done());

  scripts.FinishAll();
  readers.clear();
  EXPECT_TRUE(WaitUntil([&] { return endpoint.open_streams() == 0; }, absl::Seconds(10)));
  EXPECT_EQ(gauge.Value(), 0);
  endpoint.Stop();
}

TEST(HttpEndpointStreamTest, AFourthStreamOfOneOwnerEndsItsOldest) {
  Registry registry;
  HttpEndpoint endpoint(registry, nullptr);
  Scripts scripts;
  scripts.AddTo(endpoint);
  endpoint.SetStreamBounds({.max_streams = 8});
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();

  StreamReader other(Url(*port), "/events?who=b");
  ASSERT_TRUE(WaitUntil([&] { return endpoint.open_streams() == 1; }, absl::Seconds(10)));
  std::vector<std::unique_ptr<StreamReader>> tabs;
  for (int i = 0; i < 3; ++i) {  // one after another, so that their age is known
    tabs.push_back(std::make_unique<StreamReader>(Url(*port), "/events?who=a"));
    ASSERT_TRUE(WaitUntil([&] { return endpoint.open_streams() == i + 2; }, absl::Seconds(10)));
  }
  tabs.push_back(std::make_unique<StreamReader>(Url(*port), "/events?who=a"));
  EXPECT_TRUE(WaitUntil([&] { return tabs[0]->done(); }, absl::Seconds(10)));
  EXPECT_EQ(tabs[0]->error(), httplib::Error::Success);  // ended cleanly: the client resumes
  EXPECT_TRUE(WaitUntil([&] { return scripts.size() == 5 && scripts.at(1)->destroyed.load(); },
                        absl::Seconds(10)));
  EXPECT_EQ(endpoint.open_streams(), 4);
  EXPECT_FALSE(tabs[1]->done());
  EXPECT_FALSE(tabs[2]->done());
  EXPECT_FALSE(tabs[3]->done());
  EXPECT_FALSE(other.done());
  scripts.FinishAll();
  tabs.clear();
  endpoint.Stop();
}

TEST(HttpEndpointStreamTest, EndsAStreamAfterItsMaximumDuration) {
  Registry registry;
  HttpEndpoint endpoint(registry, nullptr);
  Scripts scripts;
  scripts.AddTo(endpoint);
  endpoint.SetStreamBounds({.max_duration = absl::Seconds(1)});
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  StreamReader reader(Url(*port), "/events");
  ASSERT_TRUE(WaitUntil([&] { return scripts.size() == 1; }, absl::Seconds(10)));
  scripts.at(0)->Send("data: before the end\n\n");
  // The script never finishes: only the bound ends the stream.
  EXPECT_TRUE(WaitUntil([&] { return reader.done(); }, absl::Seconds(20)));
  EXPECT_EQ(reader.error(), httplib::Error::Success);
  EXPECT_EQ(reader.status(), 200);
  EXPECT_EQ(reader.body(), "data: before the end\n\n");
  EXPECT_TRUE(WaitUntil([&] { return endpoint.open_streams() == 0; }, absl::Seconds(10)));
  scripts.FinishAll();
  endpoint.Stop();
}

TEST(HttpEndpointStreamTest, EndsTheStreamOfAClientThatHasGone) {
  Registry registry;
  HttpEndpoint endpoint(registry, nullptr);
  Scripts scripts;
  scripts.AddTo(endpoint);
  endpoint.SetStreamBounds(
      {.max_duration = absl::Minutes(5), .ping_interval = absl::Milliseconds(100)});
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  {
    StreamReader reader(Url(*port), "/events");
    // Nothing is sent but the pings, each after 100 ms of quiet.
    ASSERT_TRUE(WaitUntil([&] { return reader.body().find(": ping\n\n") == 0; }, absl::Seconds(10)))
        << reader.body();
    reader.HangUp();
    ASSERT_TRUE(WaitUntil([&] { return reader.done(); }, absl::Seconds(10)));
  }
  // The next ping's write fails: the stream ends long before its five minutes.
  EXPECT_TRUE(WaitUntil([&] { return endpoint.open_streams() == 0; }, absl::Seconds(10)));
  EXPECT_TRUE(WaitUntil([&] { return scripts.at(0)->destroyed.load(); }, absl::Seconds(10)));
  endpoint.Stop();
}

TEST(HttpEndpointStreamTest, StopReturnsWhileAStreamIsOpen) {
  Registry registry;
  HttpEndpoint endpoint(registry, nullptr);
  Scripts scripts;
  scripts.AddTo(endpoint);
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  StreamReader reader(Url(*port), "/events");
  ASSERT_TRUE(WaitUntil([&] { return endpoint.open_streams() == 1; }, absl::Seconds(10)));
  ASSERT_TRUE(WaitUntil(
      [&] {
        absl::MutexLock lock(&scripts.at(0)->mu);
        return scripts.at(0)->longest_wait > absl::ZeroDuration();
      },
      absl::Seconds(10)));

  auto started = std::chrono::steady_clock::now();
  endpoint.Stop();
  auto took = std::chrono::steady_clock::now() - started;
  std::cout << "Stop() with a stream open took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  // The stream waits at most about a second per Next (not its ten-minute bound).
  EXPECT_LT(took, std::chrono::seconds(10));
  {
    absl::MutexLock lock(&scripts.at(0)->mu);
    EXPECT_LE(scripts.at(0)->longest_wait, absl::Seconds(1));
  }
  EXPECT_TRUE(WaitUntil([&] { return reader.done(); }, absl::Seconds(10)));
  EXPECT_TRUE(scripts.at(0)->destroyed.load());
  EXPECT_EQ(endpoint.open_streams(), 0);
}

// A stream whose every Next blocks until the test lets it go, as one blocked writing to a client
// that has stopped reading does (up to the write timeout, or longer for a client that reads a
// little at a time): the thread it holds is not free, whatever has happened to its slot.
struct Gate {
  absl::Mutex mu;
  bool open ABSL_GUARDED_BY(mu) = false;
  int in_next ABSL_GUARDED_BY(mu) = 0;
  int most_in_next ABSL_GUARDED_BY(mu) = 0;
  int opened ABSL_GUARDED_BY(mu) = 0;
};

class BlockedStream final : public HttpEndpoint::Stream {
 public:
  explicit BlockedStream(Gate& gate) : gate_(gate) {}
  bool Next(HttpEndpoint::StreamWriter&, absl::Duration) override {
    absl::MutexLock lock(&gate_.mu);
    ++gate_.in_next;
    gate_.most_in_next = std::max(gate_.most_in_next, gate_.in_next);
    gate_.mu.Await(absl::Condition(&gate_.open));
    --gate_.in_next;
    return false;
  }

 private:
  Gate& gate_;
};

void AddBlockedStreams(HttpEndpoint& endpoint, Gate& gate) {
  endpoint.AddStream(
      "/events",
      [&gate](const HttpEndpoint::Request&)
          -> std::variant<HttpEndpoint::Response, std::unique_ptr<HttpEndpoint::Stream>> {
        absl::MutexLock lock(&gate.mu);
        ++gate.opened;
        return std::make_unique<BlockedStream>(gate);
      },
      [](const HttpEndpoint::Request&) { return std::string("one person"); });
}

// The bound on streams is a bound on the threads they hold: a stream an owner's newer one
// replaced counts until it has ended, so one person opening stream after stream cannot hold
// more of the listener's threads than the bound.
TEST(HttpEndpointStreamTest, AReplacedStreamCountsUntilItHasEnded) {
  Registry registry;
  HttpEndpoint endpoint(registry, nullptr);
  Gate gate;
  AddBlockedStreams(endpoint, gate);
  endpoint.SetStreamBounds({.max_streams = 2, .max_per_owner = 1});
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  std::vector<std::unique_ptr<StreamReader>> readers;
  int answered_503 = 0;
  for (int i = 0; i < 4; ++i) {
    readers.push_back(std::make_unique<StreamReader>(Url(*port), "/events"));
    StreamReader& reader = *readers.back();
    // Either its Next is running (it holds a thread) or it was refused.
    ASSERT_TRUE(WaitUntil(
        [&] {
          absl::MutexLock lock(&gate.mu);
          return gate.in_next == i + 1 - answered_503 || (reader.done() && reader.status() == 503);
        },
        absl::Seconds(20)))
        << "stream " << i;
    if (reader.done() && reader.status() == 503) ++answered_503;
  }
  {
    absl::MutexLock lock(&gate.mu);
    EXPECT_LE(gate.most_in_next, 2) << "threads held by streams beyond the bound of 2";
    gate.open = true;
  }
  EXPECT_EQ(answered_503, 2);
  readers.clear();
  EXPECT_TRUE(WaitUntil([&] { return endpoint.open_streams() == 0; }, absl::Seconds(20)));
  endpoint.Stop();
}

// A stream request beyond the bound is refused before its stream is opened: a burst of them
// costs no stream's opening work (for the app: a snapshot of the queue read from Redis).
TEST(HttpEndpointStreamTest, BeyondTheBoundNoStreamIsOpened) {
  Registry registry;
  HttpEndpoint endpoint(registry, nullptr);
  Gate gate;
  AddBlockedStreams(endpoint, gate);
  endpoint.SetStreamBounds({.max_streams = 1});
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  StreamReader first(Url(*port), "/events");
  ASSERT_TRUE(WaitUntil([&] { return endpoint.open_streams() == 1; }, absl::Seconds(20)));
  httplib::Client client("127.0.0.1", *port);
  for (int i = 0; i < 5; ++i) {
    auto refused = client.Get("/events", {{"Authorization", "Bearer ok"}});
    ASSERT_TRUE(refused) << httplib::to_string(refused.error());
    EXPECT_EQ(refused->status, 503);
  }
  {
    absl::MutexLock lock(&gate.mu);
    EXPECT_EQ(gate.opened, 1) << "streams opened only to be refused";
    gate.open = true;
  }
  EXPECT_TRUE(WaitUntil([&] { return first.done(); }, absl::Seconds(20)));
  endpoint.Stop();
}

// Fifty clients open a stream at once against a bound of eight: eight are served, the rest are
// told 503 at once, and the listener still answers its probes meanwhile.
TEST(HttpEndpointStreamTest, FiftyOpensAtOnceKeepTheBound) {
  Registry registry;
  Gauge& gauge = registry.GetGauge("signpost_test_streams", "Open streams");
  HttpEndpoint endpoint(registry, nullptr);
  Scripts scripts;
  scripts.AddTo(endpoint);
  endpoint.SetStreamBounds({.max_streams = 8, .open_streams = &gauge});
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  std::vector<std::unique_ptr<StreamReader>> readers;
  for (int i = 0; i < 50; ++i) {
    readers.push_back(
        std::make_unique<StreamReader>(Url(*port), "/events?who=p" + std::to_string(i)));
  }
  auto count = [&](auto pred) {
    int n = 0;
    for (auto& r : readers) n += pred(*r) ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(WaitUntil(
      [&] { return count([](StreamReader& r) { return r.done() && r.status() == 503; }) == 42; },
      absl::Seconds(60)))
      << count([](StreamReader& r) { return r.done(); }) << " ended";
  EXPECT_EQ(endpoint.open_streams(), 8);
  EXPECT_EQ(gauge.Value(), 8);
  EXPECT_EQ(count([](StreamReader& r) { return !r.done() && r.status() == 200; }), 8);
  httplib::Client client("127.0.0.1", *port);
  client.set_read_timeout(10, 0);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  scripts.FinishAll();
  readers.clear();
  EXPECT_TRUE(WaitUntil([&] { return endpoint.open_streams() == 0; }, absl::Seconds(20)));
  EXPECT_EQ(gauge.Value(), 0);
  endpoint.Stop();
}

// A client that reads, but slowly, a stream with much to write: Stop() (and the stream's maximum
// duration) end it between two events, rather than after everything Next had to write reached
// that client.
TEST(HttpEndpointStreamTest, StopEndsAStreamWritingToASlowReader) {
  Registry registry;
  HttpEndpoint endpoint(registry, nullptr);
  Scripts scripts;
  scripts.AddTo(endpoint);
  auto port = endpoint.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();

  // A raw client with a small receive buffer, reading 1 KiB each 20 ms (50 KiB/s).
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(*port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string get = "GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\n\r\n";
  ASSERT_EQ(send(fd, get.data(), get.size(), 0), static_cast<ssize_t>(get.size()));
  std::atomic<bool> reading{true};
  std::atomic<size_t> received{0};
  std::thread reader([&] {
    char buffer[1024];
    while (reading.load()) {
      ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      received += static_cast<size_t>(n);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  // 20 MB in one Next: some 400 s at that pace.
  ASSERT_TRUE(WaitUntil([&] { return scripts.size() == 1; }, absl::Seconds(10)));
  const std::string event = "data: " + std::string(1000, 'x') + "\n\n";
  {
    // All at once: Next writes what it finds pending while holding the script.
    Script& script = *scripts.at(0);
    absl::MutexLock lock(&script.mu);
    for (int i = 0; i < 20000; ++i) script.pending.push_back(event);
  }
  ASSERT_TRUE(WaitUntil([&] { return received.load() > 100000; }, absl::Seconds(20)));

  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    endpoint.Stop();
    stopped.store(true);
  });
  EXPECT_TRUE(WaitUntil([&] { return stopped.load(); }, absl::Seconds(30)))
      << "Stop() still waits for the slow reader after 30 s; it has " << received.load()
      << " bytes";
  // Hung up either way, so that a Stop() still waiting returns.
  reading.store(false);
  shutdown(fd, SHUT_RDWR);
  reader.join();
  stopper.join();
  close(fd);
}

}  // namespace
}  // namespace signpost::metrics

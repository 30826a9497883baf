// signpostctl directory import --url as an operator runs it: the real binary pages through an
// Open Referral UK 3.0 API (tests/tools/oruk_test_server.py: 25 services over 3 pages, one bad
// record, one failing page) into a real signpost-matching on the real broker and redis-server.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/events/event_factory.h"
#include "common/kafka/topics.h"
#include "signpost/v1/directory_service.grpc.pb.h"
#include "tests/support/kafka_redis_test.h"
#include "tests/support/service_process.h"
#include "tests/support/topic_reader.h"
#include "tests/support/wait_until.h"

namespace signpost {
namespace {

using ::testing::HasSubstr;

std::string ServiceId(int i) { return absl::StrFormat("5e1f0000-0000-4000-8000-%012d", i); }

struct ImportRun {
  int exit_code;
  std::string out;
};

class DirectoryImportTest : public testing::KafkaRedisTest {
 protected:
  void SetUp() override {
    KafkaRedisTest::SetUp();
    if (HasFatalFailure()) return;
    matching_ = std::make_unique<testing::ServiceProcess>(
        testing::BinaryPath("signpost-matching"),
        std::vector<std::string>{
            "--kafka-bootstrap", env_.bootstrap, "--topic-prefix", env_.prefix, "--redis",
            redis_.address(), "--metrics-listen", "127.0.0.1:0", "--postcodes",
            std::string(SIGNPOST_SOURCE_DIR) + "/tests/services/matching/data/postcodes.csv",
            "--imd-edition", "IoD2019", "--priority-imd-deciles", "1,2"});
    ASSERT_TRUE(matching_->Start().ok());
    stub_ = v1::DirectoryService::NewStub(
        grpc::CreateChannel(matching_->address(), grpc::InsecureChannelCredentials()));
    // Answering (NOT_FOUND for an unknown id) once its directory is loaded.
    ASSERT_TRUE(testing::WaitUntil(
        [&] { return Get("not-there").status().error_code() == grpc::StatusCode::NOT_FOUND; },
        absl::Seconds(60)))
        << matching_->Logs();
  }
  void TearDown() override {
    if (HasFailure() && matching_) std::cerr << "matching log:\n" << matching_->Logs();
  }

  struct Found {
    grpc::Status status_;
    v1::Resource resource;
    const grpc::Status& status() const { return status_; }
  };
  Found Get(const std::string& id) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetResourceRequest request;
    request.set_id(id);
    Found found;
    found.status_ = stub_->GetResource(&context, request, &found.resource);
    return found;
  }

  // The ORUK test server with `args` (see tests/tools/oruk_test_server.py).
  std::unique_ptr<testing::ServiceProcess> OrukServer(std::vector<std::string> args) {
    args.insert(args.begin(),
                std::string(SIGNPOST_SOURCE_DIR) + "/tests/tools/oruk_test_server.py");
    auto server = std::make_unique<testing::ServiceProcess>("/usr/bin/python3", args);
    EXPECT_TRUE(server->Start().ok());
    return server;
  }

  ImportRun Import(const testing::ServiceProcess& server) {
    return Ctl(absl::StrCat("--url http://127.0.0.1:", server.port(), " --per-page 10"));
  }

  // signpostctl directory import `args` against this test's matching; stderr in the output.
  ImportRun Ctl(const std::string& args) {
    std::string command = absl::StrCat(testing::BinaryPath("signpostctl"),
                                       " --endpoints /nonexistent --insecure --matching ",
                                       matching_->address(), " directory import ", args, " 2>&1");
    FILE* pipe = popen(command.c_str(), "r");
    std::string out;
    char buffer[4096];
    while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }

  // Upserts on signpost.directory.resources by resource id.
  std::map<std::string, int> UpsertsById() {
    std::map<std::string, int> out;
    auto messages =
        testing::ReadTopic(env_.bootstrap, env_.Topic(kafka::Topic::kDirectoryResources));
    EXPECT_TRUE(messages.ok()) << messages.status();
    if (!messages.ok()) return out;
    for (const auto& m : *messages) {
      auto event = events::ParseEvent(m);
      if (event.ok() && event->has_resource_upserted()) {
        ++out[event->resource_upserted().resource().id()];
      }
    }
    return out;
  }

  std::unique_ptr<testing::ServiceProcess> matching_;
  std::unique_ptr<v1::DirectoryService::Stub> stub_;
};

TEST_F(DirectoryImportTest, APageThatKeepsFailingIsReportedAndEverythingElseIsImportedOnce) {
  const std::string bad = ServiceId(7);
  auto server = OrukServer({"--bad-id", bad, "--fail-page", "2", "--fail-times", "0"});
  ImportRun run = Import(*server);
  EXPECT_EQ(run.exit_code, 4) << run.out;  // pages failed: the rest imported
  EXPECT_THAT(run.out, HasSubstr(absl::StrCat("REFUSED ", bad, ": assured_date")));
  EXPECT_THAT(run.out, HasSubstr("PAGE 2 FAILED: GET /services?page=2&per_page=10: HTTP 500 "
                                 "(4 attempts)"));
  EXPECT_THAT(run.out, HasSubstr("15 read, 14 imported, 1 refused, 1 pages failed"));

  auto upserts = UpsertsById();
  for (int i = 1; i <= 25; ++i) {
    SCOPED_TRACE(ServiceId(i));
    bool on_failed_page = i >= 11 && i <= 20;
    Found found = Get(ServiceId(i));
    if (i == 7 || on_failed_page) {
      EXPECT_EQ(found.status().error_code(), grpc::StatusCode::NOT_FOUND);
      EXPECT_EQ(upserts[ServiceId(i)], 0);
    } else {
      ASSERT_TRUE(found.status().ok()) << found.status().error_message();
      EXPECT_EQ(found.resource.name(), absl::StrCat("West Leeds befriending group ", i));
      EXPECT_EQ(upserts[ServiceId(i)], 1);  // every good service once
    }
  }

  // Run again (the page still failing): the same directory, nothing doubled or lost (only
  // the times it was written differ).
  auto directory = [&] {
    std::map<std::string, std::string> out;
    for (int i = 1; i <= 25; ++i) {
      Found found = Get(ServiceId(i));
      if (!found.status().ok()) continue;
      found.resource.clear_updated_at();
      found.resource.mutable_capacity()->clear_updated_at();
      out[ServiceId(i)] = found.resource.SerializeAsString();
    }
    return out;
  };
  std::map<std::string, std::string> before = directory();
  ImportRun again = Import(*server);
  EXPECT_EQ(again.exit_code, 4) << again.out;
  EXPECT_THAT(again.out, HasSubstr("15 read, 14 imported, 1 refused, 1 pages failed"));
  std::map<std::string, std::string> after = directory();
  EXPECT_EQ(after.size(), 14u);
  EXPECT_EQ(after, before);
}

TEST_F(DirectoryImportTest, APageFailingTwiceIsRetriedAndEveryGoodServiceLandsMapped) {
  const std::string bad = ServiceId(7);
  auto server = OrukServer({"--bad-id", bad, "--fail-page", "2", "--fail-times", "2"});
  ImportRun run = Import(*server);
  EXPECT_EQ(run.exit_code, 1) << run.out;  // one service refused, no page failed
  EXPECT_THAT(run.out, HasSubstr(absl::StrCat("REFUSED ", bad, ": assured_date")));
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr("FAILED")));
  EXPECT_THAT(run.out, HasSubstr("25 read, 24 imported, 1 refused, 0 pages failed"));
  EXPECT_THAT(run.out, HasSubstr("page 3 said last_page"));

  auto upserts = UpsertsById();
  for (int i = 1; i <= 25; ++i) {
    SCOPED_TRACE(ServiceId(i));
    Found found = Get(ServiceId(i));
    if (i == 7) {
      EXPECT_EQ(found.status().error_code(), grpc::StatusCode::NOT_FOUND);
      continue;
    }
    ASSERT_TRUE(found.status().ok()) << found.status().error_message();
    EXPECT_EQ(upserts[ServiceId(i)], 1);
  }
  // The HSDS 3.0 full record mapped: taxonomy term, location, address, access, language, cost.
  const v1::Resource r = Get(ServiceId(12)).resource;
  EXPECT_THAT(r.need_categories(), ::testing::ElementsAre(v1::NEED_CATEGORY_LONELINESS));
  ASSERT_EQ(r.locations_size(), 1);
  EXPECT_EQ(r.locations(0).type(), v1::LOCATION_TYPE_PHYSICAL);
  EXPECT_EQ(r.locations(0).postcode(), "LS6 1BD");
  EXPECT_TRUE(r.access().step_free());
  EXPECT_THAT(r.languages(), ::testing::ElementsAre("en"));
  EXPECT_TRUE(r.free());
  EXPECT_EQ(r.organization().name(), "Leeds Community Partnership");
  ASSERT_EQ(r.schedules_size(), 1);
  EXPECT_EQ(r.schedules(0).opens_at(), "10:00:00");
}

TEST_F(DirectoryImportTest, APageOverTheReplyBoundIsRefusedUnreadAndReported) {
  auto server = OrukServer({"--pad-page", "3", "--pad-bytes", std::to_string(3 << 20)});
  ImportRun run = Ctl(
      absl::StrCat("--url http://127.0.0.1:", server->port(), " --per-page 10 --max-reply-mib 2"));
  EXPECT_EQ(run.exit_code, 4) << run.out;
  EXPECT_THAT(run.out, HasSubstr("PAGE 3 FAILED: GET /services?page=3&per_page=10: the reply "
                                 "is over 2 MiB"));
  EXPECT_THAT(run.out, HasSubstr("20 read, 20 imported, 0 refused, 1 pages failed"));
  EXPECT_TRUE(Get(ServiceId(20)).status().ok());
  EXPECT_EQ(Get(ServiceId(21)).status().error_code(), grpc::StatusCode::NOT_FOUND);
}

// A hostile or broken server nests a record a million arrays deep (2 MB, under the reply
// bound): that record is refused naming the nesting, not a crash of signpostctl (a recursive
// copy or dump of it would overflow the stack), and every other service is imported.
TEST_F(DirectoryImportTest, ARecordNestedTooDeepIsRefusedNotACrash) {
  const std::string deep = ServiceId(9);
  auto server = OrukServer({"--deep-id", deep, "--deep-levels", "1000000"});
  ImportRun run = Import(*server);
  EXPECT_EQ(run.exit_code, 1) << run.out;  // one service refused, no page failed
  EXPECT_THAT(run.out, HasSubstr(absl::StrCat("REFUSED ", deep, ": GET /services/", deep,
                                              ": JSON nested deeper than")));
  EXPECT_THAT(run.out, HasSubstr("25 read, 24 imported, 1 refused, 0 pages failed"));
  EXPECT_EQ(Get(deep).status().error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(Get(ServiceId(10)).status().ok());
}

// A slow-loris server drips page 2 a byte at a time, each inside the 30 s read timeout, never
// finishing: the page is cut off after --reply-timeout and reported, the rest imported.
TEST_F(DirectoryImportTest, APageDrippedForEverIsCutOffAfterTheReplyTimeout) {
  auto server = OrukServer({"--drip-page", "2"});
  ImportRun run = Ctl(
      absl::StrCat("--url http://127.0.0.1:", server->port(), " --per-page 10 --reply-timeout 2"));
  EXPECT_EQ(run.exit_code, 4) << run.out;
  EXPECT_THAT(run.out, HasSubstr("PAGE 2 FAILED: GET /services?page=2&per_page=10: no whole "
                                 "reply in 2s (--reply-timeout) (4 attempts)"));
  EXPECT_THAT(run.out, HasSubstr("15 read, 15 imported, 0 refused, 1 pages failed"));
  EXPECT_TRUE(Get(ServiceId(21)).status().ok());
}

TEST_F(DirectoryImportTest, OverHttpsTheCertificateIsCheckedAgainstTheGivenCa) {
  const std::string tls = ::testing::TempDir() + "/oruk-tls-" + std::to_string(getpid());
  ASSERT_EQ(std::system((std::string(SIGNPOST_SOURCE_DIR) + "/tools/tls make " + tls).c_str()), 0);
  auto server = OrukServer({"--tls-cert", tls + "/server.pem", "--tls-key", tls + "/server.key"});
  const std::string https = absl::StrCat("--url https://127.0.0.1:", server->port());
  ImportRun trusted = Ctl(absl::StrCat(https, " --tls-ca ", tls, "/ca.pem"));
  EXPECT_EQ(trusted.exit_code, 0) << trusted.out;
  EXPECT_THAT(trusted.out, HasSubstr("25 read, 25 imported, 0 refused, 0 pages failed"));
  EXPECT_TRUE(Get(ServiceId(25)).status().ok());
  // Without the CA (the system's trust store does not know it): refused, nothing read.
  ImportRun untrusted = Ctl(https);
  EXPECT_EQ(untrusted.exit_code, 3) << untrusted.out;
  EXPECT_THAT(untrusted.out, HasSubstr("certificate is not trusted"));
  // Plain HTTP to the HTTPS port gets no reply either.
  ImportRun plain = Ctl(absl::StrCat("--url http://127.0.0.1:", server->port()));
  EXPECT_EQ(plain.exit_code, 3) << plain.out;
}

TEST_F(DirectoryImportTest, AnUnreachableApiOrABadUrlIsSaidSo) {
  ImportRun bad_url = Ctl("--url ftp://example.org");
  EXPECT_EQ(bad_url.exit_code, 2) << bad_url.out;
  EXPECT_THAT(bad_url.out, HasSubstr("not http://... or https://..."));

  auto server = OrukServer({});
  const int port = server->port();
  server->Stop();  // nothing listens there now
  testing::ServiceProcess* gone = server.get();
  ImportRun run = Import(*gone);
  EXPECT_EQ(run.exit_code, 3) << run.out;
  EXPECT_THAT(run.out, HasSubstr(absl::StrCat("no page of http://127.0.0.1:", port)));
}

}  // namespace
}  // namespace signpost

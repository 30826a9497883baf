// signpostctl as operators run it, against the real broker: dead letters go back to their
// source topic once, and a fixed consumer processes them; exit codes scripts rely on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/crypto/data_keyring.h"
#include "common/events/event_factory.h"
#include "common/kafka/kafka_consumer.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/topics.h"
#include "tests/support/kafka_env.h"
#include "tests/support/service_process.h"
#include "tests/support/topic_reader.h"
#include "tests/support/wait_until.h"

namespace signpost {
namespace {

struct CtlRun {
  int exit_code;
  std::string out;
};

// Runs signpostctl with `args`; stdout captured, stderr appended.
CtlRun Ctl(const std::string& args) {
  std::string command =
      absl::StrCat(testing::BinaryPath("signpostctl"), " --endpoints /nonexistent ", args, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class CountingHandler final : public kafka::BatchHandler {
 public:
  std::vector<kafka::Outcome> Handle(std::span<const kafka::ConsumedMessage> batch) override {
    for (const auto& m : batch) {
      if (events::ParseEvent(m).ok()) ++processed;
    }
    return std::vector<kafka::Outcome>(batch.size(), kafka::Outcome::Done());
  }
  std::atomic<int> processed{0};
};

TEST(SignpostctlTest, DeadLettersAreReplayedOnceAndTheFixedConsumerProcessesThem) {
  auto env = testing::MakeKafkaEnv();
  ASSERT_TRUE(env.ok()) << env.status();
  kafka::ProducerOptions producer_options;
  producer_options.bootstrap = env->bootstrap;
  auto producer = *kafka::KafkaProducer::Create(producer_options);
  const std::string source = env->Topic(kafka::Topic::kReferralReceived);
  // A received event that a consumer dead-lettered (the bug that did it is now fixed).
  v1::Event e;
  e.mutable_referral_received();
  events::Seal(e, "ref-dlq-1", "test", absl::Now());
  kafka::OutgoingMessage letter =
      events::ToMessage(e, env->Topic(kafka::Topic::kDeadletter), "ref-dlq-1");
  letter.headers.push_back({"dlq-reason", "matching crashed on it (fixed in 1.2.1)"});
  letter.headers.push_back({"dlq-source-topic", source});
  letter.headers.push_back({"dlq-source-partition", "0"});
  letter.headers.push_back({"dlq-source-offset", "17"});
  letter.headers.push_back({"dlq-consumer-group", env->Group("signpost-matching")});
  ASSERT_TRUE(producer->Send(letter).ok());

  const std::string kafka_flags =
      absl::StrCat("--kafka-bootstrap ", env->bootstrap, " --topic-prefix ", env->prefix);
  CtlRun listed = Ctl(absl::StrCat(kafka_flags, " dlq list"));
  EXPECT_EQ(listed.exit_code, 0) << listed.out;
  EXPECT_NE(listed.out.find("matching crashed on it"), std::string::npos) << listed.out;

  CtlRun dry = Ctl(absl::StrCat(kafka_flags, " dlq replay --dry-run"));
  EXPECT_EQ(dry.exit_code, 0) << dry.out;
  EXPECT_NE(dry.out.find("0 replayed, 1 left"), std::string::npos) << dry.out;

  CtlRun first = Ctl(absl::StrCat(kafka_flags, " dlq replay"));
  EXPECT_EQ(first.exit_code, 0) << first.out;
  EXPECT_NE(first.out.find("1 replayed, 0 left"), std::string::npos) << first.out;
  CtlRun second = Ctl(absl::StrCat(kafka_flags, " dlq replay"));
  EXPECT_EQ(second.exit_code, 0) << second.out;
  EXPECT_NE(second.out.find("0 replayed, 0 left"), std::string::npos) << second.out;

  auto on_source = testing::ReadTopic(env->bootstrap, source);
  ASSERT_TRUE(on_source.ok());
  ASSERT_EQ(on_source->size(), 1u);
  EXPECT_EQ(*(*on_source)[0].value, *letter.value);  // the original bytes
  EXPECT_FALSE(kafka::FindHeader((*on_source)[0].headers, "dlq-reason").has_value());
  EXPECT_TRUE(kafka::FindHeader((*on_source)[0].headers, "dlq-replayed-from").has_value());

  // The fixed consumer takes it like any other event.
  CountingHandler handler;
  kafka::ConsumerOptions options;
  options.bootstrap = env->bootstrap;
  options.group_id = env->Group("fixed-consumer");
  options.topics = {source};
  options.dead_letter_topic = env->Topic(kafka::Topic::kDeadletter);
  auto consumer = kafka::KafkaConsumer::Create(options, handler, *producer);
  ASSERT_TRUE(consumer.ok());
  std::thread run([&] { (*consumer)->Run(); });
  EXPECT_TRUE(testing::WaitUntil([&] { return handler.processed.load() == 1; }));
  (*consumer)->Stop();
  run.join();
}

TEST(SignpostctlTest, ExitCodesSayWhatWentWrong) {
  CtlRun no_address = Ctl("referral get ref-1");
  EXPECT_EQ(no_address.exit_code, 2) << no_address.out;
  EXPECT_NE(no_address.out.find("tools/run"), std::string::npos) << no_address.out;
  CtlRun unreachable = Ctl("--intake 127.0.0.1:1 referral get ref-1");
  EXPECT_EQ(unreachable.exit_code, 3) << unreachable.out;
  EXPECT_NE(unreachable.out.find("is it running?"), std::string::npos) << unreachable.out;
  CtlRun bad = Ctl("frobnicate");
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  CtlRun help = Ctl("dlq replay --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("each goes back once"), std::string::npos) << help.out;
  CtlRun not_a_topic = Ctl("--kafka-bootstrap 127.0.0.1:1 topics tail signpost.nope");
  EXPECT_EQ(not_a_topic.exit_code, 2);
  EXPECT_NE(not_a_topic.out.find("signpost.referral.matched"), std::string::npos);
}

TEST(SignpostctlTest, KeyringsAreMadeRotatedAndChecked) {
  using ::testing::HasSubstr;
  std::string file = ::testing::TempDir() + "/keys-" + std::to_string(getpid());
  CtlRun made = Ctl("keys new --id 2026-06 > " + file);
  ASSERT_EQ(made.exit_code, 0) << made.out;
  CtlRun rotated = Ctl("keys rotate " + file + " --id 2026-12");
  EXPECT_EQ(rotated.exit_code, 0) << rotated.out;
  EXPECT_EQ(rotated.out, "2026-12 (seals), 2026-06\n");
  EXPECT_EQ(Ctl("keys check " + file).out, "2026-12 (seals), 2026-06\n");
  CtlRun again = Ctl("keys rotate " + file + " --id 2026-06");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.out, HasSubstr("already has a key '2026-06'"));
  auto ring = crypto::DataKeyring::Load(file);
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ(ring->current().id, "2026-12");
  CtlRun broken = Ctl("keys check /etc/hostname");
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_THAT(broken.out, HasSubstr("no data-key line"));
}

}  // namespace
}  // namespace signpost

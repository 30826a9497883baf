// The Kafka client layer against the real broker that tools/kafka runs (ctest fixture "kafka").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/events/event_factory.h"
#include "common/kafka/kafka_consumer.h"
#include "common/kafka/kafka_producer.h"
#include "tests/support/kafka_env.h"
#include "tests/support/wait_until.h"

namespace signpost::kafka {
namespace {

using ::testing::HasSubstr;
using testing::KafkaEnv;

// Records what a consumer group processed: how often each event id was handled to completion,
// and the order of completions per partition.
class Ledger {
 public:
  void Done(const ConsumedMessage& m, const std::string& id) {
    absl::MutexLock lock(&mu_);
    ++done_[id];
    order_[{m.topic, m.partition}].push_back(id);
  }
  void Seen(const std::string& id) {
    absl::MutexLock lock(&mu_);
    ++seen_[id];
  }
  size_t DistinctDone() const {
    absl::MutexLock lock(&mu_);
    return done_.size();
  }
  std::map<std::string, int> done() const {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  int SeenCount(const std::string& id) const {
    absl::MutexLock lock(&mu_);
    auto it = seen_.find(id);
    return it == seen_.end() ? 0 : it->second;
  }
  std::vector<std::string> OrderOf(const std::string& topic, int32_t partition) const {
    absl::MutexLock lock(&mu_);
    auto it = order_.find({topic, partition});
    return it == order_.end() ? std::vector<std::string>{} : it->second;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, int> done_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> seen_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, int32_t>, std::vector<std::string>> order_ ABSL_GUARDED_BY(mu_);
};

// A consumer running on its own thread until Stop().
class RunningConsumer {
 public:
  RunningConsumer(ConsumerOptions options, BatchHandler& handler, Producer& dead_letters) {
    auto consumer = KafkaConsumer::Create(std::move(options), handler, dead_letters);
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    consumer_ = *std::move(consumer);
    thread_ = std::thread([this] { consumer_->Run(); });
  }
  ~RunningConsumer() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    consumer_->Stop();
    thread_.join();
  }
  std::set<std::pair<std::string, int32_t>> Assignment() const { return consumer_->Assignment(); }

 private:
  std::unique_ptr<KafkaConsumer> consumer_;
  std::thread thread_;
};

using signpost::testing::WaitUntil;

class KafkaIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = testing::MakeKafkaEnv();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    ProducerOptions options;
    options.bootstrap = env_.bootstrap;
    options.client_id = "signpost-test";
    auto producer = KafkaProducer::Create(options);
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = *std::move(producer);
  }

  ConsumerOptions Options(const std::string& group) const {
    ConsumerOptions options;
    options.bootstrap = env_.bootstrap;
    options.group_id = env_.Group(group);
    options.topics = {env_.Topic(Topic::kReferralReceived)};
    options.dead_letter_topic = env_.Topic(Topic::kDeadletter);
    options.session_timeout = absl::Seconds(6);
    options.retry_backoff_initial = absl::Milliseconds(50);
    return options;
  }

  // Publishes `count` events with ids prefix-0.. and keys spread over `keys` referral ids.
  void Publish(const std::string& prefix, int count, int keys = 64) {
    std::vector<OutgoingMessage> messages;
    for (int i = 0; i < count; ++i) {
      v1::Event event;
      event.mutable_referral_received()->mutable_referral()->set_source_referral_id(
          absl::StrCat(prefix, "-", i));
      std::string referral_id = absl::StrCat("ref-", i % keys);
      events::Seal(event, referral_id, "test", absl::Now());
      event.mutable_envelope()->set_event_id(absl::StrCat(prefix, "-", i));
      messages.push_back(
          events::ToMessage(event, env_.Topic(Topic::kReferralReceived), referral_id));
    }
    ASSERT_TRUE(producer_->SendAll(messages).ok());
  }

  // A handler that parses events, dead-letters what is not one, and records completions.
  std::unique_ptr<BatchHandler> Recording(Ledger& ledger,
                                          std::function<Outcome(const std::string&)> decide = {}) {
    return PerMessage([&ledger, decide](const ConsumedMessage& m) {
      auto event = events::ParseEvent(m);
      if (!event.ok()) return Outcome::DeadLetter(std::string(event.status().message()));
      const std::string& id = event->envelope().event_id();
      ledger.Seen(id);
      Outcome outcome = decide ? decide(id) : Outcome::Done();
      if (outcome.kind == Outcome::Kind::kDone) ledger.Done(m, id);
      return outcome;
    });
  }

  // The dead-letter topic read as an operator's tool would, once at least one letter is there.
  std::vector<ConsumedMessage> DeadLetters(const std::string& group) {
    absl::Mutex mu;
    std::vector<ConsumedMessage> dead;
    auto collect = PerMessage([&](const ConsumedMessage& m) {
      absl::MutexLock lock(&mu);
      dead.push_back(m);
      return Outcome::Done();
    });
    ConsumerOptions dlq = Options(group);
    dlq.topics = {env_.Topic(Topic::kDeadletter)};
    RunningConsumer reader(dlq, *collect, *producer_);
    EXPECT_TRUE(WaitUntil([&] {
      absl::MutexLock lock(&mu);
      return !dead.empty();
    }));
    reader.Stop();
    absl::MutexLock lock(&mu);
    return dead;
  }

  KafkaEnv env_;
  std::unique_ptr<KafkaProducer> producer_;
};

TEST_F(KafkaIntegrationTest, AProducerThatFailsFatallyIsReplacedAndItsSendsGoThroughAgain) {
  Publish("before", 5);
  ASSERT_TRUE(producer_->InjectFatalErrorForTesting().ok());
  // Sends fail while the broken producer is in use, and go through once it has been replaced:
  // a caller that retries, as every handler does, loses nothing.
  absl::Status sent;
  ASSERT_TRUE(WaitUntil([&] {
    v1::Event event;
    event.mutable_referral_received()->mutable_referral()->set_source_referral_id("after-0");
    events::Seal(event, "ref-after", "test", absl::Now());
    event.mutable_envelope()->set_event_id("after-0");
    std::vector<OutgoingMessage> message = {
        events::ToMessage(event, env_.Topic(Topic::kReferralReceived), "ref-after")};
    sent = producer_->SendAll(message);
    // Until then a send fails as the broker being away does, so callers retry it.
    EXPECT_TRUE(sent.ok() || absl::IsUnavailable(sent)) << sent;
    return sent.ok();
  })) << sent;
  EXPECT_EQ(producer_->replacements(), 1);
  Publish("later", 5);

  Ledger ledger;
  auto handler = Recording(ledger);
  RunningConsumer consumer(Options("after-fatal"), *handler, *producer_);
  ASSERT_TRUE(WaitUntil([&] { return ledger.DistinctDone() == 11; })) << ledger.DistinctDone();
  EXPECT_EQ(ledger.done().count("after-0"), 1u);
  EXPECT_EQ(ledger.done().count("later-4"), 1u);
}

TEST_F(KafkaIntegrationTest, IdempotentProducersEventsAreConsumedOnceByAGroup) {
  Publish("a", 300);
  Ledger ledger;
  auto handler = Recording(ledger);
  RunningConsumer consumer(Options("once"), *handler, *producer_);
  ASSERT_TRUE(WaitUntil([&] { return ledger.DistinctDone() == 300; })) << ledger.DistinctDone();
  absl::SleepFor(absl::Milliseconds(500));  // anything delivered twice would show by now
  consumer.Stop();
  for (const auto& [id, count] : ledger.done()) EXPECT_EQ(count, 1) << id;
  EXPECT_EQ(ledger.done().size(), 300u);
}

TEST_F(KafkaIntegrationTest, MembersSplitPartitionsAndRebalanceWithoutLossOrDuplicates) {
  Ledger ledger;
  auto handler = Recording(ledger);
  const size_t partitions = SpecOf(Topic::kReferralReceived).partitions;
  RunningConsumer a(Options("split"), *handler, *producer_);
  RunningConsumer b(Options("split"), *handler, *producer_);
  ASSERT_TRUE(WaitUntil([&] {
    auto pa = a.Assignment(), pb = b.Assignment();
    return !pa.empty() && !pb.empty() && pa.size() + pb.size() == partitions;
  })) << "two members did not split the partitions";
  for (const auto& p : a.Assignment()) EXPECT_FALSE(b.Assignment().contains(p));

  Publish("w1", 500);
  ASSERT_TRUE(WaitUntil([&] { return ledger.DistinctDone() >= 200; }));

  // A third member joins mid-stream and takes some partitions.
  auto c = std::make_unique<RunningConsumer>(Options("split"), *handler, *producer_);
  ASSERT_TRUE(WaitUntil([&] { return !c->Assignment().empty(); })) << "third member got nothing";
  Publish("w2", 500);
  ASSERT_TRUE(WaitUntil([&] { return ledger.DistinctDone() >= 700; }));

  // ... and leaves mid-stream; the others take its partitions back.
  c->Stop();
  c.reset();
  ASSERT_TRUE(
      WaitUntil([&] { return a.Assignment().size() + b.Assignment().size() == partitions; }));
  Publish("w3", 500);
  ASSERT_TRUE(WaitUntil([&] { return ledger.DistinctDone() == 1500; })) << ledger.DistinctDone();
  absl::SleepFor(absl::Milliseconds(500));
  a.Stop();
  b.Stop();

  int duplicates = 0;
  for (const auto& [id, count] : ledger.done()) duplicates += count - 1;
  EXPECT_EQ(ledger.done().size(), 1500u) << "lost events";
  EXPECT_EQ(duplicates, 0) << "events processed twice";
}

TEST_F(KafkaIntegrationTest, RetriedEventComesAgainAndNothingAfterItInItsPartitionAdvances) {
  Publish("r", 10, /*keys=*/1);  // one key: one partition, in order
  Ledger ledger;
  std::atomic<int> refusals{0};
  auto handler = Recording(ledger, [&refusals](const std::string& id) {
    if (id == "r-3" && refusals.fetch_add(1) < 2) return Outcome::Retry("directory cache down");
    return Outcome::Done();
  });
  RunningConsumer consumer(Options("retry"), *handler, *producer_);
  ASSERT_TRUE(WaitUntil([&] { return ledger.DistinctDone() == 10; })) << ledger.DistinctDone();
  consumer.Stop();

  EXPECT_EQ(ledger.SeenCount("r-3"), 3);  // refused twice, then done
  std::vector<std::string> completed;
  for (int32_t p = 0; p < static_cast<int32_t>(SpecOf(Topic::kReferralReceived).partitions); ++p) {
    auto order = ledger.OrderOf(env_.Topic(Topic::kReferralReceived), p);
    if (!order.empty()) completed = order;
  }
  EXPECT_THAT(completed, ::testing::ElementsAre("r-0", "r-1", "r-2", "r-3", "r-4", "r-5", "r-6",
                                                "r-7", "r-8", "r-9"));
  for (const auto& [id, count] : ledger.done()) EXPECT_EQ(count, 1) << id;
}

TEST_F(KafkaIntegrationTest, PoisonEventLandsOnDeadLetterTopicAndConsumerGoesOn) {
  Publish("before", 1, 1);
  std::string poison = "\x08\x96\x01 this is not an event";
  ASSERT_TRUE(producer_
                  ->Send({env_.Topic(Topic::kReferralReceived),
                          "ref-0",
                          poison,
                          {{"event-type", "referral.received"}}})
                  .ok());
  Publish("after", 1, 1);

  Ledger ledger;
  auto handler = Recording(ledger);
  RunningConsumer consumer(Options("poison"), *handler, *producer_);
  ASSERT_TRUE(WaitUntil([&] { return ledger.DistinctDone() == 2; }));
  consumer.Stop();

  std::vector<ConsumedMessage> dead = DeadLetters("dlq-reader");
  ASSERT_EQ(dead.size(), 1u);
  const ConsumedMessage& d = dead[0];
  EXPECT_EQ(d.value, poison);  // the original bytes
  EXPECT_EQ(d.key, "ref-0");
  EXPECT_THAT(std::string(*FindHeader(d.headers, kHeaderDeadLetterReason)),
              HasSubstr("not a serialized signpost.v1.Event"));
  EXPECT_EQ(FindHeader(d.headers, kHeaderDeadLetterTopic), env_.Topic(Topic::kReferralReceived));
  EXPECT_EQ(FindHeader(d.headers, kHeaderDeadLetterOffset), "1");
  EXPECT_TRUE(FindHeader(d.headers, kHeaderDeadLetterPartition).has_value());
  EXPECT_EQ(FindHeader(d.headers, kHeaderDeadLetterGroup), env_.Group("poison"));
  EXPECT_EQ(FindHeader(d.headers, "event-type"), "referral.received");  // original headers kept
}

TEST_F(KafkaIntegrationTest, ARecordOverTheSizeLimitIsDeadLetteredUnhandledAndTheRestGoOn) {
  Publish("before", 1, 1);
  v1::Event big;
  big.mutable_referral_received()->mutable_referral()->set_notes(std::string(5000, 'x'));
  events::Seal(big, "ref-0", "test", absl::Now());
  big.mutable_envelope()->set_event_id("big");
  ASSERT_TRUE(
      producer_->Send(events::ToMessage(big, env_.Topic(Topic::kReferralReceived), "ref-0")).ok());
  Publish("after", 1, 1);

  Ledger ledger;
  auto handler = Recording(ledger);
  ConsumerOptions options = Options("limits");
  options.max_record_bytes = 2000;
  RunningConsumer consumer(options, *handler, *producer_);
  ASSERT_TRUE(WaitUntil([&] { return ledger.DistinctDone() == 2; }));
  consumer.Stop();
  EXPECT_EQ(ledger.SeenCount("big"), 0);  // never handed to the handler

  std::vector<ConsumedMessage> dead = DeadLetters("limits-dlq-reader");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].value, big.SerializeAsString());
  EXPECT_THAT(std::string(*FindHeader(dead[0].headers, kHeaderDeadLetterReason)),
              HasSubstr("over the limit of 2000 bytes"));
}

// Total lag of a group as Kafka's own kafka-consumer-groups reports it.
int64_t LagReportedByKafkaTools(const KafkaEnv& env, const std::string& group, std::string* out) {
  std::string command =
      absl::StrCat(testing::KafkaTool(), " cli kafka-consumer-groups --bootstrap-server ",
                   env.bootstrap, " --describe --group ", group, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) out->append(buffer, n);
  pclose(pipe);
  int64_t lag = 0;
  bool found = false;
  for (absl::string_view line : absl::StrSplit(*out, '\n')) {
    std::vector<absl::string_view> cols = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (cols.size() >= 6 && cols[0] == group) {
      int64_t partition_lag = 0;
      if (absl::SimpleAtoi(cols[5], &partition_lag)) {
        lag += partition_lag;
        found = true;
      }
    }
  }
  return found ? lag : -1;
}

TEST_F(KafkaIntegrationTest, RestartedConsumerResumesAtItsCommittedOffset) {
  Publish("first", 50);
  Ledger first;
  auto handler = Recording(first);
  {
    RunningConsumer consumer(Options("restart"), *handler, *producer_);
    ASSERT_TRUE(WaitUntil([&] { return first.DistinctDone() == 50; }));
  }  // stops: commits and leaves the group

  Publish("second", 30);
  std::string report;
  EXPECT_EQ(LagReportedByKafkaTools(env_, env_.Group("restart"), &report), 30) << report;
  EXPECT_THAT(report, HasSubstr(env_.Topic(Topic::kReferralReceived)));

  Ledger second;
  auto handler2 = Recording(second);
  RunningConsumer consumer(Options("restart"), *handler2, *producer_);
  ASSERT_TRUE(WaitUntil([&] { return second.DistinctDone() == 30; }));
  absl::SleepFor(absl::Milliseconds(500));
  consumer.Stop();
  for (const auto& [id, count] : second.done()) {
    EXPECT_TRUE(absl::StartsWith(id, "second-")) << id << " was processed again after restart";
    EXPECT_EQ(count, 1) << id;
  }
  EXPECT_EQ(second.done().size(), 30u);
}

}  // namespace
}  // namespace signpost::kafka

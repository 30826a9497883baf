// SealingCaseStore over RedisCaseStore against a real redis-server with its AOF on: after a case
// is opened and acted on, no value in Redis and no byte of its AOF holds the person's details in
// clear; what the store loads stays sealed, and opens to the details given.
#include "services/followup/sealing_case_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "services/followup/redis_case_store.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_pool.h"
#include "tests/support/test_data_keys.h"

namespace signpost::followup {
namespace {

constexpr char kNhsNumber[] = "9434765919";
constexpr char kGivenName[] = "Alexandrina";
constexpr char kFamilyName[] = "Plantedsurname";
constexpr char kPhone[] = "07700 900461";
constexpr char kEmail[] = "alexandrina@example.org";
constexpr char kAddress[] = "17 Plantedhouse Lane";
constexpr char kNotes[] = "Lives alone since her husband died.";

v1::Case OpenedCase() {
  v1::Case kase;
  kase.set_referral_id("r-1");
  kase.set_state(v1::CASE_STATE_ASSIGNED);
  kase.set_link_worker_id("lw-1");
  kase.set_version(1);
  v1::PersonIdentity* id = kase.mutable_identity();
  id->set_nhs_number(kNhsNumber);
  id->set_given_name(kGivenName);
  id->set_family_name(kFamilyName);
  id->mutable_date_of_birth()->set_year(1951);
  id->mutable_date_of_birth()->set_month(3);
  id->mutable_date_of_birth()->set_day(4);
  id->set_phone(kPhone);
  id->set_email(kEmail);
  id->add_address_lines(kAddress);
  kase.set_referral_notes(kNotes);
  kase.mutable_profile()->set_age_years(75);
  return kase;
}

// Every value under the follow-up prefix, whatever its type, end to end.
std::string EveryValue(redis::RedisPool& pool) {
  std::string everything;
  std::function<void(const redis::Reply&)> collect = [&](const redis::Reply& r) {
    everything += r.str;
    for (const auto& e : r.elements) collect(e);
  };
  auto keys = pool.Execute({"KEYS", "fu:*"});
  EXPECT_TRUE(keys.ok());
  if (!keys.ok()) return everything;
  for (const auto& key : keys->elements) {
    auto type = pool.Execute({"TYPE", key.str});
    EXPECT_TRUE(type.ok());
    if (!type.ok()) continue;
    redis::Command read;
    if (type->str == "string") read = {"GET", key.str};
    if (type->str == "hash") read = {"HGETALL", key.str};
    if (type->str == "zset") read = {"ZRANGE", key.str, "0", "-1"};
    if (type->str == "stream") read = {"XRANGE", key.str, "-", "+"};
    EXPECT_FALSE(read.empty()) << key.str << " is a " << type->str;
    if (read.empty()) continue;
    auto value = pool.Execute(read);
    EXPECT_TRUE(value.ok());
    if (value.ok()) collect(*value);
  }
  return everything;
}

// The bytes of every file of the AOF (Redis 7 keeps it in appendonlydir).
std::string AofBytes(const std::string& dir) {
  std::string bytes;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/appendonlydir")) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    bytes += content.str();
  }
  return bytes;
}

TEST(SealingCaseStoreTest, NeitherRedisNorItsAofHoldsThePersonsDetailsInClear) {
  signpost::testing::RedisServer server(/*append_only=*/true);
  ASSERT_TRUE(server.Start().ok());
  auto pool = signpost::testing::PoolFor(server);
  ASSERT_TRUE(pool);
  RedisKeys keys;
  RedisCaseStore redis_store(*pool, keys, "t.");
  const crypto::DataKeyring keyring = signpost::testing::TestDataKeys();
  crypto::PersonalDetailsCipher cipher(keyring);
  CaseDetailsSeal seal(cipher);
  SealingCaseStore store(redis_store, seal);

  // Opened with the details in clear, as the workflow makes it from the matched referral.
  CaseChange open;
  open.after = OpenedCase();
  v1::Task task;
  task.set_id("r-1/first-contact");
  task.set_referral_id("r-1");
  task.set_link_worker_id("lw-1");
  task.set_status(v1::TASK_STATUS_OPEN);
  task.set_summary("First contact; 1 need (loneliness)");
  open.tasks.push_back({task, ""});
  v1::Event event;
  event.mutable_envelope()->set_referral_id("r-1");
  event.mutable_case_event()->set_to_state(v1::CASE_STATE_ASSIGNED);
  open.events.push_back({kafka::Topic::kFollowupEvents, "r-1", event});
  ASSERT_TRUE(store.Commit(open).ok());

  // Loaded, the case is sealed; an action on it keeps the details sealed as they were.
  auto loaded = store.Load("r-1");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  v1::Case kase = (*loaded)->kase;
  EXPECT_FALSE(kase.has_identity());
  EXPECT_TRUE(kase.referral_notes().empty());
  ASSERT_TRUE(kase.has_sealed_details());
  EXPECT_EQ(kase.sealed_details().key_id(), keyring.current().id);
  const std::string sealed_before = kase.sealed_details().SerializeAsString();
  CaseChange act;
  act.expected_version = 1;
  act.after = kase;
  act.after.set_version(2);
  act.after.set_contact_attempts(1);
  ASSERT_TRUE(store.Commit(act).ok());
  auto acted = store.Load("r-1");
  ASSERT_TRUE(acted.ok() && acted->has_value());
  EXPECT_EQ((*acted)->kase.contact_attempts(), 1);
  EXPECT_EQ((*acted)->kase.sealed_details().SerializeAsString(), sealed_before);

  const std::string values = EveryValue(*pool);
  const std::string aof = AofBytes(server.dir());
  EXPECT_FALSE(values.empty());
  EXPECT_NE(aof.find("r-1/first-contact"), std::string::npos) << "the AOF holds no case at all?";
  for (const char* planted :
       {kNhsNumber, kGivenName, kFamilyName, kPhone, kEmail, kAddress, "husband"}) {
    EXPECT_EQ(values.find(planted), std::string::npos) << planted << " in a Redis value";
    EXPECT_EQ(aof.find(planted), std::string::npos) << planted << " in the AOF";
  }

  // Opened (as GetCase does), the details are those given.
  v1::Case opened = (*acted)->kase;
  ASSERT_TRUE(seal.Open(opened).ok());
  EXPECT_FALSE(opened.has_sealed_details());
  EXPECT_EQ(opened.identity().SerializeAsString(), OpenedCase().identity().SerializeAsString());
  EXPECT_EQ(opened.referral_notes(), kNotes);
}

}  // namespace
}  // namespace signpost::followup

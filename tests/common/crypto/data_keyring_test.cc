#include "common/crypto/data_keyring.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace signpost::crypto {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKeyA[] = "FBjYD96JHjJy74ARlptU/nWyJpqYif9mfcOv+EJtuNs=";
constexpr char kKeyB[] = "OzcwFq9sxzEc4rwsj0QELyZu0KwFFDGcNh2fW/M/7Hw=";

TEST(DataKeyringTest, TheFirstDataKeySealsAndEveryKeyOpens) {
  auto ring =
      DataKeyring::Parse(absl::StrCat("# comment\n\ndata-key new ", kKeyA, "\ndata-key old ", kKeyB,
                                      "\nperson-hash-key ", kKeyA, "\n"));
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ(ring->current().id, "new");
  EXPECT_EQ(ring->current().bytes.size(), 32u);
  EXPECT_THAT(ring->key_ids(), ElementsAre("new", "old"));
  ASSERT_NE(ring->Find("old"), nullptr);
  EXPECT_EQ(ring->Find("gone"), nullptr);
  EXPECT_EQ(ring->person_hash_key().size(), 32u);
}

TEST(DataKeyringTest, EveryProblemIsNamedByLineAndNoKeyIsEchoed) {
  auto ring = DataKeyring::Parse(absl::StrCat("data-key a c2hvcnQ=\n",      // 5 bytes
                                              "data-key b/ ", kKeyA, "\n",  // bad id
                                              "data-key c ", kKeyB, "\n",   //
                                              "data-key c ", kKeyB, "\n",   // repeated
                                              "datakey d ", kKeyB, "\n"));  // unknown line
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ring.status().message(),
              AllOf(HasSubstr("line 1: the key is not 32 bytes"), HasSubstr("line 2: a key id"),
                    HasSubstr("line 4: key id 'c' given twice"), HasSubstr("line 5: expected"),
                    HasSubstr("no person-hash-key line"), Not(HasSubstr(kKeyB))));
}

TEST(DataKeyringTest, AnEmptyFileHasNoKeys) {
  auto ring = DataKeyring::Parse("");
  ASSERT_FALSE(ring.ok());
  EXPECT_THAT(ring.status().message(), HasSubstr("no data-key line"));
  EXPECT_EQ(DataKeyring::Load("/nonexistent/keys").status().code(), absl::StatusCode::kNotFound);
}

TEST(DataKeyringTest, ANewKeyringParsesWithFreshKeys) {
  auto one = NewKeyringText("2026-12");
  auto two = NewKeyringText("2026-12");
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_NE(*one, *two);
  auto ring = DataKeyring::Parse(*one);
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ(ring->current().id, "2026-12");
  EXPECT_FALSE(NewKeyringText("bad id").ok());
}

TEST(DataKeyringTest, RotatingPutsAFreshKeyFirstAndKeepsEveryOtherLine) {
  auto first = NewKeyringText("2026-06");
  ASSERT_TRUE(first.ok());
  auto rotated = RotateKeyringText(*first, "2026-12");
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  auto ring = DataKeyring::Parse(*rotated);
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_THAT(ring->key_ids(), ElementsAre("2026-12", "2026-06"));
  auto before = DataKeyring::Parse(*first);
  EXPECT_EQ(ring->Find("2026-06")->bytes, before->Find("2026-06")->bytes);
  EXPECT_EQ(ring->person_hash_key(), before->person_hash_key());
  EXPECT_EQ(rotated->rfind("# Signpost data keys", 0), 0u);   // the comments stay on top
  EXPECT_FALSE(RotateKeyringText(*rotated, "2026-06").ok());  // ids are never reused
  EXPECT_FALSE(RotateKeyringText("not a keyring", "x").ok());
}

}  // namespace
}  // namespace signpost::crypto

#include "services/intake/identifiers.h"

#include <gtest/gtest.h>

namespace signpost::intake {
namespace {

TEST(NhsNumberTest, ValidNumbers) {
  for (const char* n : {"9434765919", "943 476 5919", "943-476-5919", "4010232137", "9999999999"}) {
    EXPECT_TRUE(IsValidNhsNumber(n)) << n;
  }
  EXPECT_EQ(NormaliseNhsNumber("943 476 5919"), "9434765919");
}

TEST(NhsNumberTest, InvalidNumbers) {
  for (const char* n :
       {"9434765918",                                     // wrong check digit
        "943476591",                                      // nine digits
        "94347659190",                                    // eleven digits
        "943476591X", "", "          ", "1000000010"}) {  // check digit would be 10: never issued
    EXPECT_FALSE(IsValidNhsNumber(n)) << n;
  }
}

TEST(PostcodeTest, NormalisesWellFormedPostcodes) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"ls6 1bd", "LS6 1BD"},   {"LS61BD", "LS6 1BD"},  {"  sw1a 1aa ", "SW1A 1AA"},
      {"M1 1AE", "M1 1AE"},     {"b338th", "B33 8TH"},  {"CR2 6XH", "CR2 6XH"},
      {"DN55 1PT", "DN55 1PT"}, {"W1A 0AX", "W1A 0AX"}, {"EC1A 1BB", "EC1A 1BB"},
      {"GIR 0AA", "GIR 0AA"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(NormalisePostcode(c.in), std::optional<std::string>(c.out)) << c.in;
  }
  EXPECT_EQ(PostcodeDistrict("LS6 1BD"), "LS6");
  EXPECT_EQ(PostcodeDistrict("SW1A 1AA"), "SW1A");
}

TEST(PostcodeTest, RejectsMalformed) {
  for (const char* pc : {"", "LS6", "LS6 1B", "QS6 1BD" /* Q never leads */, "LS6 1CD", "12345",
                         "LS6-1BD", "LS6 1BDX", "ZZZZZ ZZZ"}) {
    EXPECT_EQ(NormalisePostcode(pc), std::nullopt) << pc;
  }
}

TEST(OdsCodeTest, WellFormedAndNot) {
  for (const char* code : {"A81001", "B86001", "RR8", "RR801", "Y02345"}) {
    EXPECT_TRUE(IsValidOdsCode(code)) << code;
  }
  for (const char* code : {"", "A8", "123456", "a81001", "A81 001", "ABCDEFGHIJK"}) {
    EXPECT_FALSE(IsValidOdsCode(code)) << code;
  }
}

TEST(SnomedTest, VerhoeffCheckDigit) {
  for (const char* id : {"267076002", "81877007", "105529008", "407542009", "161152002",
                         "871731000000106", "910241000000102"}) {
    EXPECT_TRUE(IsValidSnomedConceptId(id)) << id;
  }
  for (const char* id : {"267076003", "81877008", "12345", "0267076002", "26707600X", ""}) {
    EXPECT_FALSE(IsValidSnomedConceptId(id)) << id;
  }
}

}  // namespace
}  // namespace signpost::intake

#include "tools/region/region_profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <regex>
#include <set>

#include "tools/region/default_region_profile.h"

namespace signpost::region {
namespace {

using ::testing::HasSubstr;

// A profile of two LSOAs, each with a postcode, in one district.
RegionProfileFiles SmallProfile() {
  return {
      R"({"name": "Test", "imd_edition": "IoD2019",
          "decile_share": [0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0.5], "core20_population_share": 0.4,
          "languages": [{"code": "en", "share": 0.9}, {"code": "ur", "share": 0.05}]})",
      "lsoa,name,local_authority,imd_decile,population\n"
      "E01010570,Bradford 001A,Bradford,1,1600\n"
      "E01010571,Bradford 001B,Bradford,10,1400\n",
      "postcode,latitude,longitude,lsoa\n"
      "BD8 7AA,53.80,-1.78,E01010570\n"
      "BD8 9ZZ,53.81,-1.79,E01010571\n",
      "district,post_town,latitude,longitude\n"
      "BD8,Bradford,53.80,-1.78\n"};
}

TEST(RegionProfileTest, AByteOrderMarkAndAnAreaWithoutCore20AreTaken) {
  RegionProfileFiles files = SmallProfile();
  files.lsoas_csv = "\xEF\xBB\xBF" + files.lsoas_csv;  // as a spreadsheet saves it
  const std::string share = "\"core20_population_share\": 0.4";
  files.profile_json.replace(files.profile_json.find(share), share.size(),
                             "\"core20_population_share\": 0");
  auto profile = ParseRegionProfile(files);
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(profile->core20_population_share, 0);
}

TEST(RegionProfileTest, ParsesAProfileAndLinksPostcodesToTheirLsoas) {
  auto profile = ParseRegionProfile(SmallProfile());
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(profile->name, "Test");
  ASSERT_EQ(profile->lsoas.size(), 2u);
  EXPECT_EQ(profile->lsoas[1].imd_decile, 10);
  EXPECT_EQ(profile->lsoas[0].population, 1600);
  ASSERT_EQ(profile->postcodes.size(), 2u);
  EXPECT_EQ(profile->lsoas[profile->postcodes[1].lsoa].code, "E01010571");
  EXPECT_EQ(profile->districts[0].post_town, "Bradford");
  EXPECT_EQ(profile->languages[1].code, "ur");
}

// Each mistake is refused naming the file, the line and what is wrong.
TEST(RegionProfileTest, RefusesWhatIsWrongNamingFileAndLine) {
  struct Case {
    std::string what;
    std::function<void(RegionProfileFiles&)> spoil;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"ten-digit LSOA code",
       [](auto& f) { f.lsoas_csv.replace(f.lsoas_csv.find("E01010571"), 9, "E010100001"); },
       "lsoas.csv line 3: 'E010100001' is not an LSOA code"},
      {"decile 11", [](auto& f) { f.lsoas_csv.replace(f.lsoas_csv.find(",10,"), 4, ",11,"); },
       "lsoas.csv line 3: imd_decile '11' is not 1-10"},
      {"unknown LSOA",
       [](auto& f) { f.postcodes_csv.replace(f.postcodes_csv.find("E01010571"), 9, "E01099999"); },
       "postcodes.csv line 3: LSOA E01099999 is not in lsoas.csv"},
      {"district not listed",
       [](auto& f) { f.postcodes_csv.replace(f.postcodes_csv.find("BD8 9ZZ"), 7, "LS6 1BD"); },
       "postcodes.csv line 3: district LS6 is not in postcode_districts.csv"},
      {"postcode without its space",
       [](auto& f) { f.postcodes_csv.replace(f.postcodes_csv.find("BD8 9ZZ"), 7, "BD89ZZ"); },
       "postcodes.csv line 3: 'BD89ZZ' is not a postcode written in capitals with its space"},
      {"postcode in lower case",
       [](auto& f) { f.postcodes_csv.replace(f.postcodes_csv.find("BD8 9ZZ"), 7, "bd8 9zz"); },
       "postcodes.csv line 3: 'bd8 9zz' is not a postcode written in capitals"},
      {"not a number for a latitude (NaN passes a < or > test)",
       [](auto& f) { f.postcodes_csv.replace(f.postcodes_csv.find("53.81"), 5, "nan"); },
       "postcodes.csv line 3: latitude 'nan' is not in the UK"},
      {"quoted field",
       [](auto& f) {
         f.lsoas_csv.replace(f.lsoas_csv.find("Bradford 001B"), 13, "\"Bradford, B\"");
       },
       "lsoas.csv line 3: fields are plain"},
      {"language code in capitals",
       [](auto& f) { f.profile_json.replace(f.profile_json.find("\"ur\""), 4, "\"UR\""); },
       "profile.json: languages[1] must be {\"code\": a two-letter code in lower case"},
      {"an edition matching would refuse",
       [](auto& f) {
         f.profile_json.replace(f.profile_json.find("IoD2019"), 7, "IoD 2019 (revised)");
       },
       "imd_edition must be letters and digits"},
      {"no local authority",
       [](auto& f) { f.lsoas_csv.replace(f.lsoas_csv.find(",Bradford,1,"), 12, ",,1,"); },
       "lsoas.csv line 2: local_authority must be a name beginning with a letter"},
      {"outside the UK",
       [](auto& f) { f.postcodes_csv.replace(f.postcodes_csv.find("53.81"), 5, "43.81"); },
       "postcodes.csv line 3: latitude '43.81' is not in the UK"},
      {"shares disagree with the rows",
       [](auto& f) { f.profile_json.replace(f.profile_json.find("0.5, 0"), 6, "0.4, 0.1"); },
       "decile_share[0] is 0.4 but lsoas.csv gives 0.5"},
      {"wrong header", [](auto& f) { f.postcode_districts_csv.replace(0, 8, "outward"); },
       "postcode_districts.csv: the first line must be district,post_town,latitude,longitude"},
      {"not JSON", [](auto& f) { f.profile_json = "{"; }, "profile.json: not a JSON object"},
  };
  for (const auto& c : cases) {
    RegionProfileFiles files = SmallProfile();
    c.spoil(files);
    auto profile = ParseRegionProfile(files);
    ASSERT_FALSE(profile.ok()) << c.what;
    EXPECT_EQ(profile.status().code(), absl::StatusCode::kInvalidArgument) << c.what;
    EXPECT_THAT(std::string(profile.status().message()), HasSubstr(c.expected)) << c.what;
  }
}

// The built-in profile is West Yorkshire's published figures: every LSOA of its five local
// authorities, codes in the real format, every postcode in its district and the district in the
// county.
TEST(RegionProfileTest, TheBuiltInProfileIsWestYorkshire) {
  const RegionProfile& profile = DefaultRegionProfile();
  EXPECT_EQ(profile.name, "West Yorkshire");
  EXPECT_EQ(profile.imd_edition, "IoD2019");
  EXPECT_EQ(profile.lsoas.size(), 1388u);
  std::set<std::string> authorities;
  const std::regex lsoa_code("E01[0-9]{6}");
  for (const auto& lsoa : profile.lsoas) {
    authorities.insert(lsoa.local_authority);
    EXPECT_TRUE(std::regex_match(lsoa.code, lsoa_code)) << lsoa.code;
  }
  EXPECT_EQ(authorities,
            (std::set<std::string>{"Bradford", "Calderdale", "Kirklees", "Leeds", "Wakefield"}));
  // About a third of West Yorkshire's areas are in England's most deprived fifth.
  EXPECT_GT(profile.decile_share[0] + profile.decile_share[1], 0.28);
  EXPECT_LT(profile.decile_share[0] + profile.decile_share[1], 0.40);
  for (const auto& d : profile.districts) {
    EXPECT_GT(d.latitude, 53.4) << d.code;
    EXPECT_LT(d.latitude, 54.1) << d.code;
    EXPECT_GT(d.longitude, -2.3) << d.code;
    EXPECT_LT(d.longitude, -1.1) << d.code;
  }
}

}  // namespace
}  // namespace signpost::region

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/civil_time.h"
#include "services/matching/assignment.h"
#include "services/matching/candidate_filter.h"
#include "services/matching/geo_distance.h"
#include "services/matching/ranking.h"
#include "services/matching/referral_matcher.h"

namespace signpost::matching {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::Time Now() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 21, 12, 0, 0), absl::UTCTimeZone());
}

v1::Resource Walking(const std::string& id = "res-walk") {
  v1::Resource r;
  r.set_id(id);
  r.set_name("Hyde Park walking group");
  r.set_status(v1::RESOURCE_STATUS_ACTIVE);
  r.add_need_categories(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY);
  r.add_delivery_modes(v1::DELIVERY_MODE_IN_PERSON);
  r.mutable_access()->set_step_free(true);
  r.mutable_capacity()->set_places_total(12);
  r.mutable_capacity()->set_places_available(3);
  r.add_languages("en");
  r.mutable_assured_date()->set_year(2026);
  r.mutable_assured_date()->set_month(9);
  r.mutable_assured_date()->set_day(1);
  r.set_free(true);
  return r;
}

v1::PersonProfile Adult() {
  v1::PersonProfile p;
  p.set_age_years(45);
  p.set_preferred_language("en");
  return p;
}

std::optional<Exclusion> Check(const v1::Resource& r, const v1::PersonProfile& p, double km = 1.0,
                               bool remote = false, MatchPolicy policy = MatchPolicy()) {
  return WhyExcluded({&r, km, remote}, p, v1::NEED_CATEGORY_PHYSICAL_ACTIVITY, policy, Now());
}

struct FilterCase {
  const char* name;
  std::function<void(v1::Resource&, v1::PersonProfile&)> setup;
  double km;
  bool remote;
  std::optional<Exclusion::Kind> want;  // nullopt: offered
};

TEST(CandidateFilterTest, HardFilters) {
  using K = Exclusion::Kind;
  const FilterCase cases[] = {
      {"a plain match", [](v1::Resource&, v1::PersonProfile&) {}, 1.0, false, std::nullopt},
      {"wheelchair user, no step-free access",
       [](v1::Resource& r, v1::PersonProfile& p) {
         p.mutable_access_needs()->set_step_free(true);
         r.mutable_access()->set_step_free(false);
       },
       1.0, false, K::kAccess},
      {"wheelchair user, step-free access",
       [](v1::Resource&, v1::PersonProfile& p) { p.mutable_access_needs()->set_step_free(true); },
       1.0, false, std::nullopt},
      {"17-year-old and an 18+ group",
       [](v1::Resource& r, v1::PersonProfile& p) {
         p.set_age_years(17);
         r.set_minimum_age(18);
       },
       1.0, false, K::kEligibility},
      {"70-year-old and an up-to-25 group",
       [](v1::Resource& r, v1::PersonProfile& p) {
         p.set_age_years(70);
         r.set_maximum_age(25);
       },
       1.0, false, K::kEligibility},
      {"digitally excluded and online only",
       [](v1::Resource& r, v1::PersonProfile& p) {
         p.set_digitally_excluded(true);
         r.clear_delivery_modes();
         r.add_delivery_modes(v1::DELIVERY_MODE_ONLINE);
       },
       0.0, true, K::kReach},
      {"digitally excluded and by phone",
       [](v1::Resource& r, v1::PersonProfile& p) {
         p.set_digitally_excluded(true);
         r.clear_delivery_modes();
         r.add_delivery_modes(v1::DELIVERY_MODE_PHONE);
       },
       0.0, true, std::nullopt},
      {"online for someone online, far away",
       [](v1::Resource& r, v1::PersonProfile&) {
         r.clear_delivery_modes();
         r.add_delivery_modes(v1::DELIVERY_MODE_ONLINE);
       },
       0.0, true, std::nullopt},
      {"full with a closed waitlist",
       [](v1::Resource& r, v1::PersonProfile&) {
         r.mutable_capacity()->set_places_available(0);
         r.mutable_capacity()->set_waitlist_open(false);
       },
       1.0, false, K::kCapacity},
      {"full with an open waitlist",
       [](v1::Resource& r, v1::PersonProfile&) {
         r.mutable_capacity()->set_places_available(0);
         r.mutable_capacity()->set_waitlist_open(true);
       },
       1.0, false, std::nullopt},
      {"too far", [](v1::Resource&, v1::PersonProfile&) {}, 6.0, false, K::kReach},
      {"transport barrier halves the reach",
       [](v1::Resource&, v1::PersonProfile& p) { p.set_transport_barrier(true); }, 3.0, false,
       K::kReach},
      {"veterans only, not a veteran",
       [](v1::Resource& r, v1::PersonProfile&) { r.add_eligibility(v1::INCLUSION_GROUP_VETERAN); },
       1.0, false, K::kEligibility},
      {"veterans only, a veteran",
       [](v1::Resource& r, v1::PersonProfile& p) {
         r.add_eligibility(v1::INCLUSION_GROUP_VETERAN);
         p.add_inclusion_groups(v1::INCLUSION_GROUP_VETERAN);
       },
       1.0, false, std::nullopt},
      {"young people's group, aged 19",
       [](v1::Resource& r, v1::PersonProfile& p) {
         r.add_eligibility(v1::INCLUSION_GROUP_YOUNG_PERSON);
         p.set_age_years(19);
       },
       1.0, false, std::nullopt},
      {"needs a Bengali interpreter, none",
       [](v1::Resource&, v1::PersonProfile& p) {
         p.set_preferred_language("bn");
         p.set_interpreter_required(true);
       },
       1.0, false, K::kLanguage},
      {"needs a Bengali interpreter, Bengali spoken",
       [](v1::Resource& r, v1::PersonProfile& p) {
         p.set_preferred_language("bn");
         p.set_interpreter_required(true);
         r.add_languages("bn");
       },
       1.0, false, std::nullopt},
      {"needs an interpreter, interpreter offered",
       [](v1::Resource& r, v1::PersonProfile& p) {
         p.set_preferred_language("so");
         p.set_interpreter_required(true);
         r.mutable_access()->set_interpreter(true);
       },
       1.0, false, std::nullopt},
      {"temporarily closed",
       [](v1::Resource& r, v1::PersonProfile&) {
         r.set_status(v1::RESOURCE_STATUS_TEMPORARILY_CLOSED);
       },
       1.0, false, K::kInactive},
      {"needs BSL, none",
       [](v1::Resource&, v1::PersonProfile& p) { p.mutable_access_needs()->set_bsl(true); }, 1.0,
       false, K::kAccess},
  };
  for (const auto& c : cases) {
    v1::Resource r = Walking();
    v1::PersonProfile p = Adult();
    c.setup(r, p);
    auto got = Check(r, p, c.km, c.remote);
    if (c.want) {
      ASSERT_TRUE(got.has_value()) << c.name;
      EXPECT_EQ(got->kind, *c.want) << c.name << ": " << got->reason;
    } else {
      EXPECT_FALSE(got.has_value()) << c.name << ": " << got->reason;
    }
  }
}

TEST(CandidateFilterTest, StaleEntriesAreExcludedOnlyWhenThePolicySaysSo) {
  v1::Resource old = Walking();
  old.mutable_assured_date()->set_year(2024);
  EXPECT_FALSE(Check(old, Adult()).has_value());
  MatchPolicy strict;
  strict.exclude_stale = true;
  auto got = Check(old, Adult(), 1.0, false, strict);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->kind, Exclusion::Kind::kStale);
}

TEST(RankingTest, NearerFirstWithReasons) {
  v1::Resource near = Walking("res-b");
  v1::Resource far = Walking("res-a");
  std::vector<Candidate> candidates = {{&far, 2.5, false}, {&near, 0.8, false}};
  v1::PersonProfile person = Adult();
  person.mutable_access_needs()->set_step_free(true);
  auto options = RankOptions(candidates, person, MatchPolicy(), Now());
  ASSERT_EQ(options.size(), 2u);
  EXPECT_EQ(options[0].resource_id(), "res-b");
  EXPECT_THAT(options[0].reasons(), ElementsAre("0.8 km", "step-free", "3 places left", "free"));
  EXPECT_EQ(options[0].distance_m(), 800);
}

TEST(RankingTest, SpeakingThePersonsLanguageOutweighsAShortDistance) {
  v1::Resource english = Walking("res-en");
  v1::Resource bengali = Walking("res-bn");
  bengali.add_languages("bn");
  v1::PersonProfile person = Adult();
  person.set_preferred_language("bn");
  std::vector<Candidate> candidates = {{&english, 0.5, false}, {&bengali, 0.9, false}};
  auto options = RankOptions(candidates, person, MatchPolicy(), Now());
  EXPECT_EQ(options[0].resource_id(), "res-bn");
  EXPECT_THAT(options[0].reasons(), ::testing::Contains("speaks Bengali"));
}

TEST(RankingTest, TiesBreakOnIdWhateverTheInputOrder) {
  v1::Resource a = Walking("res-a"), b = Walking("res-b"), c = Walking("res-c");
  std::vector<Candidate> one = {{&c, 1.0, false}, {&a, 1.0, false}, {&b, 1.0, false}};
  std::vector<Candidate> two = {{&b, 1.0, false}, {&c, 1.0, false}, {&a, 1.0, false}};
  auto first = RankOptions(one, Adult(), MatchPolicy(), Now());
  auto second = RankOptions(two, Adult(), MatchPolicy(), Now());
  ASSERT_EQ(first.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(first[i].resource_id(), second[i].resource_id());
  EXPECT_EQ(first[0].resource_id(), "res-a");
}

TEST(RankingTest, TopKAndOneEntryPerResource) {
  v1::Resource a = Walking("res-a"), b = Walking("res-b"), c = Walking("res-c"),
               d = Walking("res-d");
  std::vector<Candidate> candidates = {
      {&a, 0.1, false}, {&a, 0.2, false}, {&b, 0.3, false}, {&c, 0.4, false}, {&d, 0.5, false}};
  auto options = RankOptions(candidates, Adult(), MatchPolicy(), Now());
  ASSERT_EQ(options.size(), 3u);
  EXPECT_EQ(options[0].resource_id(), "res-a");
  EXPECT_EQ(options[1].resource_id(), "res-b");
}

v1::LinkWorker Worker(const std::string& id, int max, std::vector<std::string> languages = {}) {
  v1::LinkWorker w;
  w.set_id(id);
  w.set_network_id("pcn-leeds-west");
  w.set_max_active_cases(max);
  w.set_available(true);
  for (auto& l : languages) w.add_languages(l);
  return w;
}

TEST(AssignmentTest, BengaliSpeakerGetsABengaliSpeakingWorkerWithRoom) {
  v1::PersonProfile person = Adult();
  person.set_preferred_language("bn");
  std::vector<v1::LinkWorker> workers = {Worker("lw-1", 40), Worker("lw-2", 40, {"en", "bn"}),
                                         Worker("lw-3", 40, {"bn"})};
  std::map<std::string, int> loads = {{"lw-1", 2}, {"lw-2", 30}, {"lw-3", 40}};
  Assignment a = AssignLinkWorker(person, "pcn-leeds-west", workers, loads);
  EXPECT_EQ(a.link_worker_id, "lw-2");  // lw-3 speaks Bengali but is full
  EXPECT_THAT(a.reasons, ::testing::Contains("speaks Bengali"));
}

TEST(AssignmentTest, LowestCaseloadThenIdAndTeamQueueWhenAllAreFull) {
  std::vector<v1::LinkWorker> workers = {Worker("lw-b", 40), Worker("lw-a", 40),
                                         Worker("lw-c", 40)};
  EXPECT_EQ(AssignLinkWorker(Adult(), "pcn-leeds-west", workers,
                             {{"lw-a", 10}, {"lw-b", 10}, {"lw-c", 12}})
                .link_worker_id,
            "lw-a");
  Assignment full = AssignLinkWorker(Adult(), "pcn-leeds-west", workers,
                                     {{"lw-a", 40}, {"lw-b", 40}, {"lw-c", 41}});
  EXPECT_EQ(full.link_worker_id, "");
  EXPECT_EQ(full.network_id, "pcn-leeds-west");
  EXPECT_THAT(full.reasons[0], HasSubstr("team queue"));
  Assignment none = AssignLinkWorker(Adult(), "", workers, {});
  EXPECT_THAT(none.reasons[0], HasSubstr("no network"));
}

// Never a queue nobody works: the regional unrouted queue, with the practice named for the
// coordinator who routes it.
TEST(AssignmentTest, APracticeNoNetworkListsGoesToTheUnroutedQueueNamingThePractice) {
  Assignment unrouted = UnroutedAssignment("A81099");
  EXPECT_EQ(unrouted.link_worker_id, "");
  EXPECT_EQ(unrouted.network_id, "unrouted");
  EXPECT_THAT(unrouted.reasons,
              ElementsAre("no network serves the referring practice A81099",
                          "held on the unrouted queue for a coordinator to route"));
  EXPECT_EQ(AssignLinkWorker(Adult(), "", {Worker("lw-a", 40)}, {}).network_id, "unrouted");
}

TEST(AssignmentTest, TiersPutSpeakersFirstInIdOrderAndLeaveOutWhoCannotTakeCases) {
  v1::PersonProfile person = Adult();
  person.set_preferred_language("bn");
  v1::LinkWorker away = Worker("lw-0", 40, {"bn"});
  away.set_available(false);
  v1::LinkWorker elsewhere = Worker("lw-9", 40, {"bn"});
  elsewhere.set_network_id("pcn-bradford");
  std::vector<v1::LinkWorker> workers = {Worker("lw-3", 0), Worker("lw-2", 30, {"en", "bn"}),
                                         Worker("lw-1", 40, {"bn"}), away, elsewhere};
  auto tiers = AssignmentTiers(person, "pcn-leeds-west", workers);
  ASSERT_EQ(tiers.size(), 2u);
  EXPECT_TRUE(tiers[0].shares_language);
  EXPECT_THAT(tiers[0].workers, ElementsAre(std::pair<std::string, int>{"lw-1", 40},
                                            std::pair<std::string, int>{"lw-2", 30}));
  EXPECT_FALSE(tiers[1].shares_language);
  EXPECT_THAT(tiers[1].workers, ElementsAre(std::pair<std::string, int>{"lw-3", 0}));
  // English (or no language given): one tier, everyone in it.
  auto english = AssignmentTiers(Adult(), "pcn-leeds-west", workers);
  ASSERT_EQ(english.size(), 1u);
  EXPECT_EQ(english[0].workers.size(), 3u);
  EXPECT_TRUE(AssignmentTiers(Adult(), "pcn-nowhere", workers).empty());
}

TEST(GeoDistanceTest, AgreesWithRedisGeodist) {
  // GEODIST of Palermo and Catania as Redis's own documentation gives it: 166274.1516 m.
  v1::GeoPoint palermo, catania;
  palermo.set_longitude(13.361389);
  palermo.set_latitude(38.115556);
  catania.set_longitude(15.087269);
  catania.set_latitude(37.502669);
  EXPECT_NEAR(DistanceKm(palermo, catania), 166.2741516, 0.001);
  EXPECT_DOUBLE_EQ(DistanceKm(catania, palermo), DistanceKm(palermo, catania));
  EXPECT_EQ(DistanceKm(palermo, palermo), 0.0);
}

TEST(ReferralMatcherTest, OptionsPerNeedAndUnmetNeedsWithWhy) {
  v1::ReferralReceived received;
  auto* referral = received.mutable_referral();
  *referral->mutable_profile() = Adult();
  referral->mutable_profile()->set_postcode_district("LS6");
  referral->mutable_profile()->mutable_access_needs()->set_step_free(true);
  referral->add_needs()->set_category(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY);
  referral->add_needs()->set_category(v1::NEED_CATEGORY_DEBT_AND_MONEY);
  referral->add_needs()->set_category(v1::NEED_CATEGORY_BEREAVEMENT);
  v1::Resource walk = Walking();
  v1::Resource advice = Walking("res-advice");
  advice.mutable_access()->set_step_free(false);
  std::vector<std::vector<Candidate>> candidates = {
      {{&walk, 0.8, false}}, {{&advice, 1.0, false}}, {}};
  Assignment assignment{"lw-1", "pcn-leeds-west", {"lowest open caseload (0)"}};
  PersonLocation location{PersonLocation::Basis::kPostcode, {}, "E01011000", 2};
  auto outcome = MatchReferral(received, location, candidates, assignment, MatchPolicy(), Now());
  ASSERT_EQ(outcome.matched.needs_size(), 3);
  EXPECT_EQ(outcome.matched.needs(0).options(0).resource_id(), "res-walk");
  EXPECT_EQ(outcome.matched.needs(1).options_size(), 0);
  EXPECT_EQ(outcome.matched.link_worker_id(), "lw-1");
  EXPECT_EQ(outcome.matched.location_basis(), "postcode");
  ASSERT_EQ(outcome.unmet.size(), 2u);
  EXPECT_EQ(outcome.unmet[0].need_index, 1);
  EXPECT_EQ(outcome.unmet[0].unmet.need().category(), v1::NEED_CATEGORY_DEBT_AND_MONEY);
  EXPECT_THAT(outcome.unmet[0].unmet.reasons(),
              ElementsAre("none with the access needed (1 resource excluded)"));
  EXPECT_EQ(outcome.unmet[0].unmet.postcode_district(), "LS6");
  EXPECT_EQ(outcome.unmet[0].unmet.imd_decile(), 2);
  EXPECT_EQ(outcome.unmet[1].need_index, 2);
  EXPECT_THAT(outcome.unmet[1].unmet.reasons(), ElementsAre("none within reach"));
}

// The equity reports read deprivation from the matched referral: a referral that came without a
// decile gets its postcode's, with the edition of the postcode data; one that came with a decile,
// or that was located only by its district, keeps what the referrer sent.
TEST(ReferralMatcherTest, ThePostcodesDecileCompletesAProfileThatHasNone) {
  Assignment assignment{"lw-1", "pcn-leeds-west", {"lowest open caseload (0)"}};
  PersonLocation postcode{PersonLocation::Basis::kPostcode, {}, "E01011000", 2};
  MatchPolicy policy;
  policy.imd_edition = "IoD2019";
  auto match = [&](const v1::PersonProfile& profile, const PersonLocation& location) {
    v1::ReferralReceived received;
    *received.mutable_referral()->mutable_profile() = profile;
    received.mutable_referral()->add_needs()->set_category(v1::NEED_CATEGORY_PHYSICAL_ACTIVITY);
    return MatchReferral(received, location, {{}}, assignment, policy, Now())
        .matched.referral()
        .profile();
  };

  v1::PersonProfile derived = match(Adult(), postcode);
  EXPECT_EQ(derived.lsoa_code(), "E01011000");
  EXPECT_EQ(derived.imd_decile(), 2);
  EXPECT_EQ(derived.imd_edition(), "IoD2019");
  EXPECT_EQ(derived.age_years(), Adult().age_years());

  v1::PersonProfile sent = Adult();
  sent.set_lsoa_code("E01011001");
  sent.set_imd_decile(7);
  sent.set_imd_edition("IoD2025");
  v1::PersonProfile kept = match(sent, postcode);
  EXPECT_EQ(kept.lsoa_code(), "E01011001");
  EXPECT_EQ(kept.imd_decile(), 7);
  EXPECT_EQ(kept.imd_edition(), "IoD2025");

  // A decile sent without its LSOA: the postcode's LSOA may be another area's, so none is added.
  v1::PersonProfile decile_only = Adult();
  decile_only.set_imd_decile(7);
  decile_only.set_imd_edition("IoD2025");
  EXPECT_TRUE(match(decile_only, postcode).lsoa_code().empty());
  EXPECT_EQ(match(decile_only, postcode).imd_decile(), 7);

  // Another LSOA named by the referrer: the postcode's decile belongs to a different area.
  v1::PersonProfile other_area = Adult();
  other_area.set_lsoa_code("E01011001");
  EXPECT_EQ(match(other_area, postcode).imd_decile(), 0);

  PersonLocation district{PersonLocation::Basis::kDistrict, {}, "E01011000", 2};
  v1::PersonProfile by_district = match(Adult(), district);
  EXPECT_EQ(by_district.imd_decile(), 0);
  EXPECT_TRUE(by_district.lsoa_code().empty());
  EXPECT_TRUE(by_district.imd_edition().empty());

  PersonLocation no_decile{PersonLocation::Basis::kPostcode, {}, "E01011000", 0};
  EXPECT_EQ(match(Adult(), no_decile).imd_decile(), 0);
}

// Intake triages Core20 by the decile the referrer sent; for one sent without, the derived decile
// raises the priority (and with it follow-up's first-contact deadline), saying why.
TEST(ReferralMatcherTest, ADerivedCore20DecileRaisesPriority) {
  Assignment assignment{"lw-1", "pcn-leeds-west", {"lowest open caseload (0)"}};
  MatchPolicy policy;
  policy.imd_edition = "IoD2019";
  auto match = [&](const v1::PersonProfile& profile, int decile, v1::Urgency triaged) {
    v1::ReferralReceived received;
    *received.mutable_referral()->mutable_profile() = profile;
    received.set_priority(triaged);
    PersonLocation location{PersonLocation::Basis::kPostcode, {}, "E01011000", decile};
    return MatchReferral(received, location, {}, assignment, policy, Now()).matched;
  };

  v1::ReferralMatched core20 = match(Adult(), 2, v1::URGENCY_ROUTINE);
  EXPECT_EQ(core20.priority(), v1::URGENCY_PRIORITY);
  EXPECT_THAT(core20.priority_reasons(),
              ElementsAre("Core20: IMD decile 2 (IoD2019, from the postcode)"));

  v1::ReferralMatched not_core20 = match(Adult(), 3, v1::URGENCY_ROUTINE);
  EXPECT_EQ(not_core20.priority(), v1::URGENCY_ROUTINE);
  EXPECT_TRUE(not_core20.priority_reasons().empty());

  // Already priority at intake: nothing to raise.
  v1::ReferralMatched already = match(Adult(), 1, v1::URGENCY_PRIORITY);
  EXPECT_EQ(already.priority(), v1::URGENCY_PRIORITY);
  EXPECT_TRUE(already.priority_reasons().empty());

  // The referrer sent a decile: intake triaged by it, and the postcode's does not override it.
  v1::PersonProfile sent = Adult();
  sent.set_imd_decile(6);
  sent.set_imd_edition("IoD2025");
  EXPECT_EQ(match(sent, 1, v1::URGENCY_ROUTINE).priority(), v1::URGENCY_ROUTINE);

  policy.priority_imd_deciles = {1, 2, 3};
  EXPECT_EQ(match(Adult(), 3, v1::URGENCY_ROUTINE).priority(), v1::URGENCY_PRIORITY);
}

}  // namespace
}  // namespace signpost::matching

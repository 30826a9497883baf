#include "services/monitor/provision.h"

#include <gtest/gtest.h>

#include "common/events/event_envelope.h"
#include "services/monitor/provision_csv.h"

namespace signpost::monitor {
namespace {

const absl::Time kT = absl::FromUnixSeconds(1795440000);
const absl::Time kNow = kT + absl::Hours(120);  // the look-back below is a week

v1::Event Sealed(v1::Event e, const std::string& referral, absl::Time at = kT) {
  events::Seal(e, referral, "test", at);
  return e;
}

v1::Event Resource(const std::string& id, const std::string& postcode, int total, int available,
                   v1::ResourceStatus status = v1::RESOURCE_STATUS_ACTIVE) {
  v1::Event e;
  v1::Resource* r = e.mutable_resource_upserted()->mutable_resource();
  r->set_id(id);
  r->set_status(status);
  r->add_locations()->set_postcode(postcode);
  r->mutable_capacity()->set_places_total(total);
  r->mutable_capacity()->set_places_available(available);
  return Sealed(e, "");
}

v1::Event Worker(const std::string& id, const std::string& network,
                 std::vector<std::string> districts, int max_cases, bool available) {
  v1::Event e;
  v1::LinkWorker* w = e.mutable_link_worker_upserted()->mutable_link_worker();
  w->set_id(id);
  w->set_network_id(network);
  for (const auto& d : districts) w->add_postcode_districts(d);
  w->set_max_active_cases(max_cases);
  w->set_available(available);
  return Sealed(e, "");
}

v1::Event Network(const std::string& id, std::vector<std::string> districts) {
  v1::Event e;
  v1::Network* n = e.mutable_network_upserted()->mutable_network();
  n->set_id(id);
  for (const auto& d : districts) n->add_postcode_districts(d);
  return Sealed(e, "");
}

v1::Event Matched(const std::string& referral, int decile, const std::string& district,
                  const std::string& worker) {
  v1::Event e;
  v1::ReferralMatched* m = e.mutable_referral_matched();
  m->mutable_referral()->mutable_profile()->set_imd_decile(decile);
  m->mutable_referral()->mutable_profile()->set_postcode_district(district);
  m->set_link_worker_id(worker);
  return Sealed(e, referral);
}

v1::Event Case(const std::string& referral, v1::CaseState to, const std::string& worker,
               absl::Time at = kT) {
  v1::Event e;
  e.mutable_case_event()->set_to_state(to);
  e.mutable_case_event()->set_link_worker_id(worker);
  return Sealed(e, referral, at);
}

v1::Event Reached(const std::string& referral, const std::string& worker, absl::Time at) {
  v1::Event e = Case(referral, v1::CASE_STATE_CONTACTING, worker, at);
  e.mutable_case_event()->set_contact_result(v1::CONTACT_RESULT_REACHED);
  return e;
}

v1::Event Unmet(int decile, const std::string& district) {
  v1::Event e;
  e.mutable_need_unmet()->set_imd_decile(decile);
  e.mutable_need_unmet()->set_postcode_district(district);
  return Sealed(e, "u");
}

geo::PostcodeRow Postcode(const std::string& code, int decile) {
  return geo::PostcodeRow{.code = code, .latitude = 53.8, .longitude = -1.5, .imd_decile = decile};
}

std::map<std::string, v1::ProvisionRow> ByArea(
    const google::protobuf::RepeatedPtrField<v1::ProvisionRow>& rows) {
  std::map<std::string, v1::ProvisionRow> out;
  for (const auto& row : rows) out[row.area()] = row;
  return out;
}

// A small region worked by hand (the figures in the comments are the arithmetic the view must do).
class ProvisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // LS1: two postcodes in quintile 1 and two in quintile 3; LS2: two in quintile 5. A
    // district's own row ("LS1") is its centre, not a place, and counts for no quintile.
    book_.SetPostcodes({Postcode("LS1 1AA", 1), Postcode("LS1 1AB", 2), Postcode("LS1 1AE", 5),
                        Postcode("LS1 1AD", 6), Postcode("LS2 1AA", 9), Postcode("LS2 1AB", 10),
                        Postcode("LS1", 3)});
    book_.Observe(Resource("r1", "LS1 1AA", 10, 4));
    book_.Observe(Resource("r2", "LS2 1AA", 30, 30));
    book_.Observe(Resource("r3", "LS2 1AB", 20, 20, v1::RESOURCE_STATUS_INACTIVE));
    book_.Observe(Resource("r4", "LS2 1AB", 20, 5));
    book_.Forget("r4");                              // a tombstone
    book_.Observe(Resource("r5", "HX7 9ZZ", 6, 6));  // a postcode the file does not have

    book_.Observe(Worker("w1", "n1", {"LS1"}, 40, true));
    book_.Observe(Worker("w2", "n2", {}, 20, true));  // covers its network's districts
    book_.Observe(Network("n2", {"LS1", "LS2"}));
    book_.Observe(Worker("w3", "n3", {"LS2"}, 40, false));  // not taking cases
    // Retired as matching retires a worker: unavailable. Its tombstone, as matching's, is ignored.
    book_.Observe(Worker("w4", "n4", {"LS2"}, 40, true));
    book_.Observe(Worker("w4", "n4", {"LS2"}, 40, false));
    book_.Forget("link-worker:w4");

    // a and b matched to w1; b then moved to w2; c's case ended before its match was read.
    book_.Observe(Matched("a", 1, "LS1", "w1"));
    book_.Observe(Case("a", v1::CASE_STATE_ASSIGNED, "w1"));
    book_.Observe(Reached("a", "w1", kT + absl::Hours(48)));
    book_.Observe(Matched("b", 2, "LS1", "w1"));
    v1::Event moved = Case("b", v1::CASE_STATE_ASSIGNED, "w1");
    moved.mutable_case_event()->set_reassigned_to("w2");
    book_.Observe(moved);
    book_.Observe(Reached("b", "w2", kT + absl::Hours(96)));
    book_.Observe(Case("c", v1::CASE_STATE_CLOSED, "w1"));
    book_.Observe(Matched("c", 5, "LS1", "w1"));
    book_.Observe(Matched("d", 9, "LS2", "w3"));
    book_.Observe(Matched("d", 9, "LS2", "w3"));  // a redelivery
    // e: no decile known, in LS3 (a district no postcode of the file is in).
    book_.Observe(Matched("e", 0, "LS3", ""));

    book_.Observe(Unmet(1, "LS1"));
    book_.Observe(Unmet(2, "LS1"));
    book_.Observe(Unmet(0, "HX7"));
  }

  ProvisionBook book_{ProvisionOptions{.suppress_below = 2, .look_back = absl::Hours(24 * 7)}};
};

TEST_F(ProvisionTest, CaseloadRoomIsEachWorkersFreePlacesSharedOverTheirDistrictsAndQuintiles) {
  v1::Provision view = book_.Provision(kNow);
  auto districts = ByArea(view.districts());
  auto quintiles = ByArea(view.quintiles());
  // w1: 40 - 1 open (a; b moved away, c ended) = 39, all in LS1.
  // w2: 20 - 1 open (b) = 19, over its network's LS1 and LS2: 9.5 each.
  // w3 and w4: not available: no room, but they cover LS2.
  EXPECT_DOUBLE_EQ(districts["LS1"].caseload_room(), 39 + 9.5);
  EXPECT_DOUBLE_EQ(districts["LS2"].caseload_room(), 9.5);
  EXPECT_EQ(districts["LS1"].link_workers(), 2);
  EXPECT_EQ(districts["LS2"].link_workers(), 3);
  // LS1's postcodes are half in quintile 1, half in quintile 3; LS2's all in quintile 5.
  EXPECT_DOUBLE_EQ(quintiles["1 (most deprived)"].caseload_room(), 48.5 / 2);
  EXPECT_DOUBLE_EQ(quintiles["3"].caseload_room(), 48.5 / 2);
  EXPECT_DOUBLE_EQ(quintiles["5 (least deprived)"].caseload_room(), 9.5);
  EXPECT_DOUBLE_EQ(quintiles["2"].caseload_room(), 0);
  EXPECT_EQ(quintiles["2"].link_workers(), 0);
}

TEST_F(ProvisionTest, ResourcePlacesAreCountedWhereTheResourceIs) {
  v1::Provision view = book_.Provision(kNow);
  auto districts = ByArea(view.districts());
  auto quintiles = ByArea(view.quintiles());
  EXPECT_EQ(quintiles["1 (most deprived)"].resources(), 1);
  EXPECT_EQ(quintiles["1 (most deprived)"].resource_places(), 10);
  EXPECT_EQ(quintiles["1 (most deprived)"].resource_places_available(), 4);
  // r3 is inactive and r4 deleted: only r2 in LS2.
  EXPECT_EQ(districts["LS2"].resources(), 1);
  EXPECT_EQ(districts["LS2"].resource_places(), 30);
  EXPECT_EQ(quintiles["5 (least deprived)"].resource_places(), 30);
  // r5's postcode is not in the file: its district is known from the postcode, its quintile not.
  EXPECT_EQ(districts["HX7"].resource_places(), 6);
  EXPECT_EQ(quintiles["unknown"].resource_places(), 6);
  EXPECT_EQ(view.postcodes_known(), 6);
}

TEST_F(ProvisionTest, NeedIsReferralsUnmetNeedsAndDaysToFirstContactWithSmallNumbersWithheld) {
  v1::Provision view = book_.Provision(kNow);
  auto districts = ByArea(view.districts());
  auto quintiles = ByArea(view.quintiles());
  ASSERT_EQ(view.quintiles_size(), 6);  // 1..5 and unknown (e, r5, an unmet need)
  const v1::ProvisionRow& q1 = quintiles["1 (most deprived)"];
  EXPECT_EQ(q1.referrals(), 2);  // a (decile 1) and b (decile 2)
  EXPECT_FALSE(q1.suppressed());
  EXPECT_DOUBLE_EQ(q1.median_days_to_first_contact(), 3);  // 2 and 4 days
  EXPECT_DOUBLE_EQ(q1.resource_places_per_referral(), 10.0 / 2);
  EXPECT_DOUBLE_EQ(q1.caseload_room_per_referral(), 24.25 / 2);
  EXPECT_EQ(q1.unmet_needs(), 2);
  // Quintile 3 (c) and 5 (d, once though delivered twice): one referral each, under 2: withheld,
  // while what is provided there is still shown.
  EXPECT_TRUE(quintiles["3"].suppressed());
  EXPECT_EQ(quintiles["3"].referrals(), 0);
  EXPECT_FALSE(quintiles["3"].has_caseload_room_per_referral());
  EXPECT_TRUE(quintiles["5 (least deprived)"].suppressed());
  EXPECT_EQ(quintiles["5 (least deprived)"].resource_places(), 30);
  // No referrals: nothing withheld and no ratio.
  EXPECT_FALSE(quintiles["2"].suppressed());
  EXPECT_FALSE(quintiles["2"].has_resource_places_per_referral());

  const v1::ProvisionRow& ls1 = districts["LS1"];
  EXPECT_EQ(ls1.referrals(), 3);
  EXPECT_DOUBLE_EQ(ls1.median_days_to_first_contact(), 3);
  EXPECT_DOUBLE_EQ(ls1.resource_places_per_referral(), 10.0 / 3);
  EXPECT_DOUBLE_EQ(ls1.caseload_room_per_referral(), 48.5 / 3);
  EXPECT_EQ(ls1.unmet_needs(), 2);
  // LS2 (d) and LS3 (e) withheld: two cells, so nothing else need be.
  EXPECT_TRUE(districts["LS2"].suppressed());
  EXPECT_TRUE(districts["LS3"].suppressed());
  // The unknown quintile's one referral (e) is withheld, and with it its unmet need (counted
  // there, it would say the referral had one); HX7 has no referral to withhold.
  EXPECT_TRUE(quintiles["unknown"].suppressed());
  EXPECT_EQ(quintiles["unknown"].unmet_needs(), 0);
  EXPECT_EQ(districts["HX7"].unmet_needs(), 1);
}

TEST_F(ProvisionTest, TheCsvHasALinePerQuintileAndDistrictWithWithheldFiguresLeftEmpty) {
  std::string csv = ProvisionCsv(book_.Provision(kNow));
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "by,area,referrals,caseload_room,link_workers,resources,resource_places,"
            "resource_places_available,unmet_needs,median_days_to_first_contact,"
            "resource_places_per_referral,caseload_room_per_referral,withheld");
  EXPECT_NE(
      csv.find("\nimd_quintile,\"1 (most deprived)\",2,24.2,2,1,10,4,2,3.00,5.00,12.12,false\n"),
      std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\nimd_quintile,\"3\",,24.2,2,0,0,0,0,,,,true\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\npostcode_district,\"LS1\",3,48.5,2,1,10,4,2,3.00,3.33,16.17,false\n"),
            std::string::npos)
      << csv;
}

TEST(ProvisionBookTest, WithoutPostcodesEverythingProvidedFallsInTheUnknownQuintile) {
  ProvisionBook book;
  book.Observe(Resource("r1", "LS1 1AA", 10, 4));
  book.Observe(Worker("w1", "n1", {"LS1"}, 40, true));
  v1::Provision view = book.Provision(kNow);
  auto quintiles = ByArea(view.quintiles());
  EXPECT_EQ(view.postcodes_known(), 0);
  EXPECT_EQ(quintiles["unknown"].resource_places(), 10);
  EXPECT_DOUBLE_EQ(quintiles["unknown"].caseload_room(), 40);
  EXPECT_EQ(ByArea(view.districts())["LS1"].resource_places(), 10);
}

}  // namespace
}  // namespace signpost::monitor

namespace signpost::monitor {
namespace {

// One withheld cell alone would be the total (given by the other breakdown, and the equity
// funnel) less the cells shown: the next smallest is withheld with it.
TEST(ProvisionBookTest, OneWithheldCellTakesTheNextSmallestWithIt) {
  ProvisionBook book(ProvisionOptions{.suppress_below = 5});
  int n = 0;
  auto refer = [&](int decile, int count) {
    for (int i = 0; i < count; ++i)
      book.Observe(Matched("r" + std::to_string(n++), decile, "LS1", ""));
  };
  refer(1, 3);   // quintile 1: 3, withheld
  refer(3, 12);  // quintile 2: 12
  refer(5, 7);   // quintile 3: 7, the next smallest: withheld too
  refer(7, 20);  // quintile 4: 20
  auto quintiles = ByArea(book.Provision(kT + absl::Hours(1)).quintiles());
  EXPECT_TRUE(quintiles["1 (most deprived)"].suppressed());
  EXPECT_TRUE(quintiles["3"].suppressed());
  EXPECT_EQ(quintiles["3"].referrals(), 0);
  EXPECT_FALSE(quintiles["3"].has_resource_places_per_referral());
  EXPECT_EQ(quintiles["2"].referrals(), 12);
  EXPECT_EQ(quintiles["4"].referrals(), 20);
  EXPECT_FALSE(quintiles["5 (least deprived)"].suppressed());  // none: nothing to withhold
  // All 42 in LS1: one cell, shown.
  EXPECT_EQ(ByArea(book.Provision(kT + absl::Hours(1)).districts())["LS1"].referrals(), 42);
}

// Need counts over the look-back; a case matched before it still fills its worker's caseload.
TEST(ProvisionBookTest, NeedCountsOverTheLookBackWhileOlderCasesStillFillCaseloads) {
  ProvisionBook book(ProvisionOptions{.suppress_below = 1, .look_back = absl::Hours(24)});
  book.Observe(Worker("w1", "n1", {"LS1"}, 40, true));
  for (int i = 0; i < 10; ++i) {  // matched months ago, still open
    book.Observe(Matched("old" + std::to_string(i), 1, "LS1", "w1"), /*within_look_back=*/false);
  }
  book.Observe(Case("old0", v1::CASE_STATE_CLOSED, "w1"), /*within_look_back=*/false);
  book.Observe(Matched("new", 1, "LS1", "w1"));
  book.Observe(Unmet(1, "LS1"));
  auto at = [&](absl::Time now) { return ByArea(book.Provision(now).districts())["LS1"]; };
  v1::ProvisionRow today = at(kT + absl::Hours(1));
  EXPECT_EQ(today.referrals(), 1);
  EXPECT_EQ(today.unmet_needs(), 1);
  EXPECT_DOUBLE_EQ(today.caseload_room(), 40 - 9 - 1);
  // Two days on, the new referral and the unmet need are past the look-back; the case is open.
  v1::ProvisionRow later = at(kT + absl::Hours(48));
  EXPECT_EQ(later.referrals(), 0);
  EXPECT_EQ(later.unmet_needs(), 0);
  EXPECT_DOUBLE_EQ(later.caseload_room(), 40 - 9 - 1);
}

// Redelivered unmet needs count once; districts that are not outward codes are no rows.
TEST(ProvisionBookTest, RedeliveriesCountOnceAndMalformedDistrictsMakeNoRows) {
  ProvisionBook book;
  v1::Event unmet = Unmet(2, "LS1");
  book.Observe(unmet);
  book.Observe(unmet);
  book.Observe(Unmet(2, "=HYPERLINK(\"x\")"));
  book.Observe(Matched("m", 0, "not a district", ""));
  v1::Provision view = book.Provision(kT + absl::Hours(1));
  EXPECT_EQ(ByArea(view.quintiles())["1 (most deprived)"].unmet_needs(), 2);
  ASSERT_EQ(view.districts_size(), 1);
  EXPECT_EQ(view.districts(0).area(), "LS1");
  EXPECT_EQ(view.districts(0).unmet_needs(), 1);
}

}  // namespace
}  // namespace signpost::monitor

namespace signpost::monitor {
namespace {

TEST(ProvisionCsvTest, AnAreaThatASpreadsheetWouldTakeForAFormulaStaysText) {
  v1::Provision view;
  view.add_districts()->set_area("=HYPERLINK(\"x\")");
  EXPECT_NE(ProvisionCsv(view).find("\npostcode_district,\"'=HYPERLINK(\"\"x\"\")\","),
            std::string::npos)
      << ProvisionCsv(view);
}

}  // namespace
}  // namespace signpost::monitor

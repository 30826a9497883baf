#include "services/monitor/monitor.h"

#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include "common/events/event_factory.h"
#include "common/events/timestamp.h"
#include "services/monitor/bounded_label.h"

namespace signpost::monitor {
namespace {

// The funnel's cells by "dimension/group".
std::map<std::string, v1::FunnelCell> CellsOf(const v1::EquityFunnel& funnel) {
  std::map<std::string, v1::FunnelCell> cells;
  for (const auto& c : funnel.cells()) cells[c.dimension() + "/" + c.group()] = c;
  return cells;
}

const absl::Time kNow = absl::FromUnixSeconds(1795440000);

// What protobuf logged while a test listened (its log handler is a plain function).
std::vector<std::string>& ProtobufLog() {
  static std::vector<std::string> log;
  return log;
}

kafka::ConsumedMessage Message(const std::string& topic, absl::Time at, std::string value,
                               kafka::Headers headers = {}) {
  kafka::ConsumedMessage m;
  m.topic = "p." + topic;
  m.key = "k";
  m.value = std::move(value);
  m.headers = std::move(headers);
  m.timestamp_ms = absl::ToUnixMillis(at);
  return m;
}

std::string Event(v1::Event e) {
  events::Seal(e, "r1", "test", kNow);
  return e.SerializeAsString();
}

TEST(MonitorTest, HowLongTheOldestUnprocessedMessageHasWaited) {
  Monitor monitor("p.", {}, absl::Hours(24), [] { return kNow; });
  for (int i = 0; i < 10; ++i) {
    v1::Event e;
    e.mutable_referral_received();
    auto m = Message("signpost.referral.received", kNow - absl::Seconds(100 - i), Event(e));
    m.offset = i;
    monitor.Observe(m);
  }
  v1::GroupLag lag;
  lag.set_group("signpost-matching");
  lag.set_topic("signpost.referral.received");
  auto* behind = lag.add_partitions();
  behind->set_partition(0);
  behind->set_committed(4);  // offsets 4..9 wait; 4 arrived 96 s ago
  behind->set_end(10);
  behind->set_lag(6);
  auto* caught_up = lag.add_partitions();
  caught_up->set_partition(1);
  caught_up->set_committed(3);
  caught_up->set_end(3);
  monitor.SetLag({lag});
  v1::FlowSnapshot s = monitor.Snapshot(kNow);
  ASSERT_EQ(s.groups_size(), 1);
  EXPECT_DOUBLE_EQ(s.groups(0).partitions(0).oldest_waiting_seconds(), 96);
  EXPECT_DOUBLE_EQ(s.groups(0).partitions(1).oldest_waiting_seconds(), 0);
  EXPECT_DOUBLE_EQ(s.groups(0).oldest_waiting_seconds(), 96);
  // The wait keeps growing between probes.
  EXPECT_DOUBLE_EQ(monitor.Snapshot(kNow + absl::Seconds(4)).groups(0).oldest_waiting_seconds(),
                   100);
}

TEST(MonitorTest, RepeatReferralsOfOnePersonAndDeliveriesOfDetailsAreCounted) {
  Monitor monitor("p.", {}, absl::Hours(24), [] { return kNow; });
  auto received = [&](const std::string& referral, const std::string& person) {
    v1::Event e;
    e.mutable_referral_received()->mutable_referral()->mutable_sealed()->set_person_ref(person);
    events::Seal(e, referral, "test", kNow);
    monitor.Observe(Message("signpost.referral.received", kNow, e.SerializeAsString()));
  };
  received("r1", "person-a");
  received("r1", "person-a");  // the same event again (a republish): not a repeat
  received("r2", "person-b");
  received("r3", "person-a");  // person a, referred again
  received("r4", "person-a");
  received("r5", "");  // no identity to recognise
  for (int i = 0; i < 3; ++i) {
    v1::Event access;
    access.mutable_personal_data_access()->set_actor("lw-1");
    events::Seal(access, "r1", "test", kNow);
    monitor.Observe(Message("signpost.audit.access", kNow, access.SerializeAsString()));
  }
  v1::FlowSnapshot s = monitor.Snapshot(kNow);
  EXPECT_EQ(s.repeat_referrals(), 2);
  EXPECT_EQ(s.personal_data_deliveries(), 3);

  // A day later the earlier referrals are out of the window: person a's next one is a first,
  // and the repeats counted then are forgotten.
  Monitor later("p.", {}, absl::Hours(24), [] { return kNow; });
  auto at = [&](const std::string& referral, const std::string& person, absl::Time t) {
    v1::Event e;
    e.mutable_referral_received()->mutable_referral()->mutable_sealed()->set_person_ref(person);
    events::Seal(e, referral, "test", t);
    later.Observe(Message("signpost.referral.received", t, e.SerializeAsString()));
  };
  at("r1", "person-a", kNow);
  at("r2", "person-a", kNow + absl::Hours(1));
  EXPECT_EQ(later.Snapshot(kNow).repeat_referrals(), 1);
  at("r3", "person-a", kNow + absl::Hours(26));
  EXPECT_EQ(later.Snapshot(kNow).repeat_referrals(), 0);
  at("r4", "person-a", kNow + absl::Hours(27));
  EXPECT_EQ(later.Snapshot(kNow).repeat_referrals(), 1);
}

TEST(MonitorTest, LagMeasuredBeforeItsMessagesAreReadGetsItsWaitOnceTheyAre) {
  Monitor monitor("p.", {}, absl::Hours(24), [] { return kNow; });
  v1::GroupLag lag;
  lag.set_group("signpost-matching");
  lag.set_topic("signpost.referral.received");
  auto* behind = lag.add_partitions();
  behind->set_partition(0);
  behind->set_committed(0);
  behind->set_end(1);
  behind->set_lag(1);
  monitor.SetLag({lag});
  EXPECT_DOUBLE_EQ(monitor.Snapshot(kNow).groups(0).oldest_waiting_seconds(), 0);  // not seen yet
  v1::Event e;
  e.mutable_referral_received();
  auto m = Message("signpost.referral.received", kNow - absl::Seconds(30), Event(e));
  m.offset = 0;
  monitor.Observe(m);
  EXPECT_DOUBLE_EQ(monitor.Snapshot(kNow).groups(0).oldest_waiting_seconds(), 30);
}

// Referrals from a practice no network lists: counted, and waiting until a coordinator routes
// them (or they end), whichever topic is read first; a match republished counts once.
TEST(MonitorTest, UnroutedReferralsAreCountedAndWaitUntilRouted) {
  Monitor monitor("p.", {}, absl::Hours(24), [] { return kNow; });
  auto matched = [&](const std::string& referral, const std::string& network,
                     const std::string& worker = "") {
    v1::Event e;
    e.mutable_referral_matched()->set_network_id(network);
    e.mutable_referral_matched()->set_link_worker_id(worker);
    events::Seal(e, referral, "test", kNow);
    monitor.Observe(Message("signpost.referral.matched", kNow, e.SerializeAsString()));
  };
  auto changed = [&](const std::string& referral, const std::string& reassigned_to,
                     v1::CaseState to) {
    v1::Event e;
    v1::CaseEvent* c = e.mutable_case_event();
    c->set_network_id("unrouted");
    c->set_from_state(v1::CASE_STATE_ASSIGNED);
    c->set_to_state(to);
    if (!reassigned_to.empty()) c->set_reassigned_to(reassigned_to);
    events::Seal(e, referral, "test", kNow);
    monitor.Observe(Message("signpost.followup.events", kNow, e.SerializeAsString()));
  };
  matched("r1", "unrouted");
  matched("r1", "unrouted");  // republished
  matched("r2", "");          // as matching said it before it named the queue
  matched("r3", "pcn-north");
  matched("r4", "pcn-north", "lw-1");
  v1::FlowSnapshot s = monitor.Snapshot(kNow);
  EXPECT_EQ(s.unrouted_referrals(), 2);
  EXPECT_EQ(s.unrouted_waiting(), 2);
  changed("r1", "lw-1", v1::CASE_STATE_ASSIGNED);  // routed by the coordinator
  changed("r5", "", v1::CASE_STATE_WITHDRAWN);     // withdrawn before its match was read
  changed("r2", "", v1::CASE_STATE_ASSIGNED);      // a change that does not route it
  matched("r5", "unrouted");
  s = monitor.Snapshot(kNow);
  EXPECT_EQ(s.unrouted_referrals(), 3);
  EXPECT_EQ(s.unrouted_waiting(), 1);  // r2
}

// Issue 22, item 3: a rejection nobody could be told of is counted as such.
TEST(MonitorTest, RejectionsNobodyCouldBeToldOfAreCounted) {
  Monitor monitor("p.", {}, absl::Hours(24), [] { return kNow; });
  v1::Event told;
  told.mutable_referral_rejected()->set_referrer_ods_code("B86001");
  events::Seal(told, "", "test", kNow);
  v1::Event untold;
  untold.mutable_referral_rejected()->set_referrer_unreachable(true);
  events::Seal(untold, "", "test", kNow);
  monitor.Observe(Message("signpost.referral.rejected", kNow, told.SerializeAsString()));
  monitor.Observe(Message("signpost.referral.rejected", kNow, untold.SerializeAsString()));
  v1::FlowSnapshot s = monitor.Snapshot(kNow);
  EXPECT_EQ(s.unreachable_rejections(), 1);
}

TEST(FlowWindowTest, RatesCountTheLastMinuteOnly) {
  FlowWindow w;
  for (int i = 0; i < 120; ++i) w.Add(kNow - absl::Seconds(90), 10);  // too old by `now`
  for (int i = 0; i < 60; ++i) w.Add(kNow - absl::Seconds(i % 30), 100);
  EXPECT_DOUBLE_EQ(w.MessagesPerSecond(kNow), 1.0);
  EXPECT_DOUBLE_EQ(w.BytesPerSecond(kNow), 100.0);
  EXPECT_DOUBLE_EQ(w.MessagesPerSecond(kNow + absl::Seconds(120)), 0.0);
  // Messages arrive out of time order (partitions interleave): an old one does not wipe a newer
  // second sharing its bucket.
  w.Add(kNow - absl::Seconds(60), 5);
  EXPECT_DOUBLE_EQ(w.MessagesPerSecond(kNow), 1.0);
}

TEST(MonitorTest, RatesDeadLettersRejectionsAlertsAndUnmetNeeds) {
  Monitor stats("p.", {}, absl::Hours(24), [] { return kNow; });
  for (int i = 0; i < 30; ++i) {
    v1::Event e;
    e.mutable_referral_received();
    stats.Observe(Message("signpost.referral.received", kNow - absl::Seconds(i), Event(e)));
  }
  for (int i = 0; i < 3; ++i) {
    stats.Observe(Message("signpost.deadletter", kNow, "garbage",
                          {{"dlq-reason", i < 2 ? "not an event" : "no payload"},
                           {"dlq-source-topic", "p.signpost.referral.received"},
                           {"dlq-source-partition", "4"},
                           {"dlq-source-offset", std::to_string(100 + i)},
                           {"dlq-consumer-group", "p.signpost-matching"}}));
  }
  v1::Event rejected;
  rejected.mutable_referral_rejected()->set_source_system("emis-north");
  rejected.mutable_referral_rejected()->set_reason("invalid NHS number");
  stats.Observe(Message("signpost.referral.rejected", kNow, Event(rejected)));
  stats.Observe(Message("signpost.referral.rejected", kNow, Event(rejected)));
  v1::Event breach;
  breach.mutable_case_event()->set_alert(v1::CASE_ALERT_SLA_BREACHED);
  stats.Observe(Message("signpost.followup.events", kNow, Event(breach)));
  v1::Event unmet;
  unmet.mutable_need_unmet()->set_postcode_district("LS6");
  unmet.mutable_need_unmet()->mutable_need()->set_category(v1::NEED_CATEGORY_DEBT_AND_MONEY);
  stats.Observe(Message("signpost.need.unmet", kNow, Event(unmet)));
  stats.Observe(Message("signpost.need.unmet", kNow, Event(unmet)));

  v1::FlowSnapshot s = stats.Snapshot(kNow);
  const v1::TopicFlow* received = nullptr;
  for (const auto& t : s.topics()) {
    if (t.topic() == "signpost.referral.received") received = &t;
  }
  ASSERT_NE(received, nullptr);
  EXPECT_EQ(received->messages_total(), 30);
  EXPECT_DOUBLE_EQ(received->messages_per_second(), 0.5);

  ASSERT_EQ(s.dead_letters_size(), 2);
  EXPECT_EQ(s.dead_letters(0).reason(), "no payload");
  EXPECT_EQ(s.dead_letters(1).reason(), "not an event");
  EXPECT_EQ(s.dead_letters(1).count(), 2);
  EXPECT_EQ(s.dead_letters(1).source_topic(), "signpost.referral.received");
  ASSERT_EQ(s.latest_dead_letters_size(), 3);
  EXPECT_EQ(s.latest_dead_letters(0).source_offset(), 102);  // newest first
  EXPECT_EQ(s.latest_dead_letters(0).group(), "signpost-matching");
  EXPECT_EQ(s.latest_dead_letters(0).source_partition(), 4);

  ASSERT_EQ(s.rejections_size(), 1);
  EXPECT_EQ(s.rejections(0).source_system(), "emis-north");
  EXPECT_EQ(s.rejections(0).count(), 2);
  EXPECT_EQ(s.sla_breaches(), 1);
  EXPECT_EQ(s.sla_at_risk(), 0);
  ASSERT_EQ(s.unmet_needs_size(), 1);
  EXPECT_EQ(s.unmet_needs(0).postcode_district(), "LS6");
  EXPECT_EQ(s.unmet_needs(0).category(), v1::NEED_CATEGORY_DEBT_AND_MONEY);
  EXPECT_EQ(s.unmet_needs(0).count(), 2);
}

v1::Event At(v1::Event e, const std::string& rid, absl::Time at) {
  events::Seal(e, rid, "test", at);
  return e;
}

TEST(StageLatenciesTest, TimesBetweenStagesWhateverOrderTheTopicsArriveIn) {
  StageLatencies stages;
  const absl::Time t0 = kNow;
  for (int i = 0; i < 10; ++i) {
    std::string rid = "r" + std::to_string(i);
    v1::Event received;
    *received.mutable_referral_received()->mutable_referral()->mutable_referred_at() =
        events::ToTimestamp(t0 - absl::Hours(1));
    v1::Event matched;
    matched.mutable_referral_matched();
    v1::Event task;
    task.mutable_task_event()->mutable_task()->set_kind(v1::TASK_KIND_FIRST_CONTACT);
    task.mutable_task_event()->mutable_task()->set_status(v1::TASK_STATUS_OPEN);
    v1::Event contact;
    contact.mutable_case_event()->set_contact_result(v1::CONTACT_RESULT_REACHED);
    v1::Event closed;
    closed.mutable_case_event()->set_from_state(v1::CASE_STATE_FOLLOW_UP);
    closed.mutable_case_event()->set_to_state(v1::CASE_STATE_CLOSED);
    // Follow-up's events before matching's, as separate topics may deliver them.
    stages.Observe(At(task, rid, t0 + absl::Seconds(2 + i)));
    stages.Observe(At(received, rid, t0));
    stages.Observe(At(matched, rid, t0 + absl::Seconds(1)));
    stages.Observe(At(matched, rid, t0 + absl::Seconds(50)));  // a redelivery: not counted
    stages.Observe(At(contact, rid, t0 + absl::Hours(24)));
    stages.Observe(At(closed, rid, t0 + absl::Hours(24 * 30)));
  }
  std::map<std::string, v1::StageLatency> by_pair;
  for (const auto& s : stages.Snapshot()) by_pair[s.from_stage() + ">" + s.to_stage()] = s;
  ASSERT_TRUE(by_pair.count("referred>received"));
  EXPECT_DOUBLE_EQ(by_pair["referred>received"].p50_seconds(), 3600);
  EXPECT_DOUBLE_EQ(by_pair["received>matched"].p99_seconds(), 1);
  EXPECT_EQ(by_pair["received>matched"].count(), 10);
  // matched -> first task took 1..10 s: p50 is the 6th smallest of ten.
  EXPECT_DOUBLE_EQ(by_pair["matched>first_task"].p50_seconds(), 6);
  EXPECT_DOUBLE_EQ(by_pair["matched>first_task"].p90_seconds(), 10);
  EXPECT_EQ(by_pair["first_contact>closed"].count(), 10);
  EXPECT_DOUBLE_EQ(by_pair["first_contact>closed"].p50_seconds(), 29 * 24 * 3600);
}

TEST(GapReportTest, UnmetNeedsByDistrictAndCategoryOverAPeriodAsJsonAndCsv) {
  GapReportBook gaps;
  auto unmet = [&](const std::string& district, v1::NeedCategory category,
                   std::vector<std::string> reasons, absl::CivilDay day) {
    v1::Event e;
    e.mutable_need_unmet()->set_postcode_district(district);
    e.mutable_need_unmet()->mutable_need()->set_category(category);
    for (auto& r : reasons) e.mutable_need_unmet()->add_reasons(r);
    gaps.Observe(At(e, "r",
                    absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), 12, 0, 0),
                                    absl::UTCTimeZone())));
  };
  absl::CivilDay d1(2026, 11, 2), d2(2026, 11, 9), d3(2026, 11, 20);
  unmet("LS6", v1::NEED_CATEGORY_DEBT_AND_MONEY, {"none within reach"}, d1);
  unmet("LS6", v1::NEED_CATEGORY_DEBT_AND_MONEY, {"none within reach"}, d2);
  unmet("LS6", v1::NEED_CATEGORY_DEBT_AND_MONEY, {"none with capacity"}, d2);
  unmet("BD3", v1::NEED_CATEGORY_LONELINESS, {"none in language"}, d2);
  unmet("BD3", v1::NEED_CATEGORY_LONELINESS, {"none in language"}, d3);

  v1::GapReportRequest all;
  auto report = gaps.Report(all, d3);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->since(), "2026-11-02");
  EXPECT_EQ(report->until(), "2026-11-20");
  ASSERT_EQ(report->rows_size(), 2);
  EXPECT_EQ(report->rows(0).postcode_district(), "LS6");  // most unmet first
  EXPECT_EQ(report->rows(0).unmet(), 3);
  // Week by week (weeks from Monday: the 2nd, the 9th and the 16th of November).
  ASSERT_EQ(report->weeks_size(), 3);
  EXPECT_EQ(report->weeks(0).week_start(), "2026-11-02");
  EXPECT_EQ(report->weeks(0).unmet(), 1);
  EXPECT_EQ(report->weeks(1).week_start(), "2026-11-09");
  EXPECT_EQ(report->weeks(1).unmet(), 3);
  ASSERT_EQ(report->weeks(1).categories_size(), 2);
  EXPECT_EQ(report->weeks(1).categories(0).category(), v1::NEED_CATEGORY_DEBT_AND_MONEY);
  EXPECT_EQ(report->weeks(1).categories(0).unmet(), 2);
  EXPECT_EQ(report->weeks(2).week_start(), "2026-11-16");
  EXPECT_EQ(report->weeks(2).unmet(), 1);
  EXPECT_EQ(report->rows(0).reasons(0).reason(), "none within reach");
  EXPECT_EQ(report->rows(0).reasons(0).count(), 2);
  EXPECT_EQ(report->rows(1).unmet(), 2);

  v1::GapReportRequest week;
  week.set_since("2026-11-09");
  week.set_until("2026-11-15");
  report = gaps.Report(week, d3);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->rows_size(), 2);
  EXPECT_EQ(report->rows(0).unmet(), 2);  // LS6 on the 9th
  EXPECT_EQ(report->rows(1).unmet(), 1);  // BD3 on the 9th
  EXPECT_EQ(GapReportBook::Csv(*report),
            "postcode_district,need_category,unmet,reasons\n"
            "\"LS6\",debt_and_money,2,\"none with capacity (1); none within reach (1)\"\n"
            "\"BD3\",loneliness,1,\"none in language (1)\"\n");

  v1::GapReportRequest bad;
  bad.set_since("last week");
  EXPECT_EQ(gaps.Report(bad, d3).status().code(), absl::StatusCode::kInvalidArgument);
  v1::GapReportRequest backwards;
  backwards.set_since("2026-11-20");
  backwards.set_until("2026-11-01");
  EXPECT_EQ(gaps.Report(backwards, d3).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace signpost::monitor

namespace signpost::monitor {
namespace {

// Twelve referrals, worked through by hand:
//   r0-r5  IMD decile 1 (quintile 1), women aged 70, carers; all assigned, r0-r3 contacted after
//          1, 2, 3, 4 days; r0-r2 connected; r0, r1 closed, r0 improved (baseline 20 -> 28),
//          r1 not (25 -> 22).
//   r6-r9  IMD decile 9 (quintile 5), men aged 30; all assigned and contacted after 1 day.
//   r10    decile 4 (quintile 2), r11 decile unknown: referred only.
// Core20 share: 6 of the 11 with a known decile.
TEST(EquityFunnelTest, FunnelByGroupWithSmallNumbersWithheld) {
  EquityFunnelBook book({/*core20_share_of_population=*/0.25, /*suppress_below=*/5});
  const absl::Time t0 = absl::FromUnixSeconds(1795440000);
  auto event = [](v1::Event e, const std::string& rid, absl::Time at) {
    events::Seal(e, rid, "test", at);
    return e;
  };
  for (int i = 0; i < 12; ++i) {
    std::string rid = "r" + std::to_string(i);
    v1::Event received;
    auto* p = received.mutable_referral_received()->mutable_referral()->mutable_profile();
    if (i < 6) {
      p->set_imd_decile(1);
      p->set_age_years(70);
      p->set_sex(v1::SEX_FEMALE);
      p->add_inclusion_groups(v1::INCLUSION_GROUP_CARER);
    } else if (i < 10) {
      p->set_imd_decile(9);
      p->set_age_years(30);
      p->set_sex(v1::SEX_MALE);
    } else if (i == 10) {
      p->set_imd_decile(4);
    }
    book.Observe(event(received, rid, t0));
    book.Observe(event(received, rid, t0));  // redelivered: counted once
    if (i < 10) {
      v1::Event matched;
      matched.mutable_referral_matched();
      book.Observe(event(matched, rid, t0 + absl::Minutes(1)));
    }
    bool contacted = i < 4 || (i >= 6 && i < 10);
    if (contacted) {
      v1::Event contact;
      contact.mutable_case_event()->set_contact_result(v1::CONTACT_RESULT_REACHED);
      int days = i < 4 ? i + 1 : 1;
      book.Observe(event(contact, rid, t0 + absl::Hours(24 * days)));
    }
    if (i < 3) {
      v1::Event connected;
      connected.mutable_case_event()->set_connected_resource_id("walk-1");
      book.Observe(event(connected, rid, t0 + absl::Hours(24 * 7)));
    }
    if (i < 2) {
      for (bool baseline : {true, false}) {
        v1::Event outcome;
        auto* m = outcome.mutable_case_event()->mutable_outcome();
        m->set_baseline(baseline);
        int total = i == 0 ? (baseline ? 20 : 28) : (baseline ? 25 : 22);
        for (int a = 0; a < 7; ++a) m->mutable_swemwbs()->add_answers(a == 0 ? total - 6 : 1);
        book.Observe(event(outcome, rid, t0 + absl::Hours(24 * (baseline ? 5 : 40))));
      }
      v1::Event closed;
      closed.mutable_case_event()->set_from_state(v1::CASE_STATE_FOLLOW_UP);
      closed.mutable_case_event()->set_to_state(v1::CASE_STATE_CLOSED);
      book.Observe(event(closed, rid, t0 + absl::Hours(24 * 42)));
    }
  }
  v1::EquityFunnel funnel = book.Funnel();
  std::map<std::string, v1::FunnelCell> cells = CellsOf(funnel);
  ASSERT_EQ(funnel.cells(0).dimension(), "all");
  const auto& all = cells["all/all"];
  EXPECT_EQ(all.referred(), 12);
  EXPECT_EQ(all.assigned(), 10);
  EXPECT_EQ(all.contacted(), 8);
  EXPECT_EQ(all.connected(), 3);
  EXPECT_EQ(all.closed(), 2);
  EXPECT_EQ(all.improved(), 1);
  EXPECT_DOUBLE_EQ(all.median_days_to_first_contact(), 1);  // 1,1,1,1,1,2,3,4

  const auto& most_deprived = cells["imd_quintile/1 (most deprived)"];
  EXPECT_EQ(most_deprived.referred(), 6);
  EXPECT_EQ(most_deprived.contacted(), 4);
  EXPECT_EQ(most_deprived.connected(), 3);
  EXPECT_EQ(most_deprived.improved(), 1);
  EXPECT_DOUBLE_EQ(most_deprived.median_days_to_first_contact(), 2.5);  // 1,2,3,4
  EXPECT_EQ(cells["inclusion_group/carer"].referred(), 6);
  EXPECT_EQ(cells["sex/female"].contacted(), 4);
  EXPECT_EQ(cells["age_band/65-79"].referred(), 6);
  // Four men: fewer than five, so withheld.
  EXPECT_TRUE(cells["sex/male"].suppressed());
  EXPECT_EQ(cells["sex/male"].referred(), 0);
  EXPECT_TRUE(cells["imd_quintile/unknown"].suppressed());

  EXPECT_DOUBLE_EQ(funnel.core20_share_of_referrals(), 6.0 / 11.0);
  EXPECT_DOUBLE_EQ(funnel.core20_share_of_population(), 0.25);
}

// The funnel week by week, worked by hand. UTC weeks from Monday: 2026-11-02 (Mon) and
// 2026-11-09 (Mon).
//   week of 2 Nov: r0-r4 received on Wed 4 Nov: r0-r2 decile 1, r3-r4 decile 9; r0, r3 contacted.
//                  r5 received Sun 8 Nov 23:00 UTC (still that week): decile 2.
//   week of 9 Nov: r6-r7 received Mon 9 Nov 00:30: decile 10 (two: the week is withheld).
// Week 1: 6 referred, Core20 4 of 6; quintile 1 has 4, quintile 5 has 2 (withheld below 3),
// so quintile 1 is withheld too (6 - 2 would give it) and so is the week's Core20 share.
TEST(EquityFunnelTest, TheFunnelWeekByWeekWithSmallWeeksWithheld) {
  EquityFunnelBook book({/*core20_share_of_population=*/0.36, /*suppress_below=*/3});
  auto at = [](int day, int hour, int minute) {
    return absl::FromCivil(absl::CivilSecond(2026, 11, day, hour, minute, 0), absl::UTCTimeZone());
  };
  auto observe = [&](v1::Event e, const std::string& rid, absl::Time when) {
    events::Seal(e, rid, "test", when);
    book.Observe(e);
  };
  const int decile[] = {1, 1, 1, 9, 9, 2, 10, 10};
  const absl::Time received[] = {at(4, 10, 0), at(4, 10, 0), at(4, 10, 0), at(4, 10, 0),
                                 at(4, 10, 0), at(8, 23, 0), at(9, 0, 30), at(9, 0, 30)};
  for (int i = 0; i < 8; ++i) {
    v1::Event e;
    e.mutable_referral_received()->mutable_referral()->mutable_profile()->set_imd_decile(decile[i]);
    observe(e, "r" + std::to_string(i), received[i]);
  }
  for (int i : {0, 3}) {
    v1::Event contact;
    contact.mutable_case_event()->set_contact_result(v1::CONTACT_RESULT_REACHED);
    observe(contact, "r" + std::to_string(i), at(6, 10, 0));  // two days after receipt
  }
  v1::EquityFunnel funnel = book.Funnel();
  ASSERT_EQ(funnel.weeks_size(), 2);
  const v1::FunnelWeek& first = funnel.weeks(0);
  EXPECT_EQ(first.week_start(), "2026-11-02");
  ASSERT_GE(first.cells_size(), 1);
  EXPECT_EQ(first.cells(0).dimension(), "all");
  EXPECT_EQ(first.cells(0).referred(), 6);
  EXPECT_EQ(first.cells(0).contacted(), 2);
  EXPECT_DOUBLE_EQ(first.cells(0).median_days_to_first_contact(), 2);
  EXPECT_FALSE(first.has_core20_share_of_referrals());  // 4 of 6 would give quintile 1
  std::map<std::string, v1::FunnelCell> by_group;
  for (const auto& c : first.cells()) by_group[c.dimension() + "/" + c.group()] = c;
  EXPECT_TRUE(by_group["imd_quintile/1 (most deprived)"].suppressed());
  EXPECT_EQ(by_group["imd_quintile/1 (most deprived)"].referred(), 0);
  EXPECT_TRUE(by_group["imd_quintile/5 (least deprived)"].suppressed());
  EXPECT_EQ(by_group.size(), 3u);  // all, quintiles 1 and 5: no age, sex or ethnicity by week

  const v1::FunnelWeek& second = funnel.weeks(1);
  EXPECT_EQ(second.week_start(), "2026-11-09");
  EXPECT_TRUE(second.cells(0).suppressed());  // two referrals: too few to show
  EXPECT_EQ(second.cells(0).referred(), 0);
  EXPECT_FALSE(second.has_core20_share_of_referrals());  // withheld with it
  // The whole look-back is as before.
  EXPECT_DOUBLE_EQ(funnel.core20_share_of_referrals(), 4.0 / 8.0);

  // With every quintile of the week big enough (threshold 2), all are shown, with the share.
  EquityFunnelBook wider({/*core20_share_of_population=*/0.36, /*suppress_below=*/2});
  for (int i = 0; i < 6; ++i) {
    v1::Event e;
    e.mutable_referral_received()->mutable_referral()->mutable_profile()->set_imd_decile(decile[i]);
    events::Seal(e, "r" + std::to_string(i), "test", received[i]);
    wider.Observe(e);
  }
  const v1::FunnelWeek shown = wider.Funnel().weeks(0);
  std::map<std::string, v1::FunnelCell> shown_groups;
  for (const auto& c : shown.cells()) shown_groups[c.dimension() + "/" + c.group()] = c;
  EXPECT_EQ(shown_groups["imd_quintile/1 (most deprived)"].referred(), 4);
  EXPECT_EQ(shown_groups["imd_quintile/5 (least deprived)"].referred(), 2);
  EXPECT_DOUBLE_EQ(shown.core20_share_of_referrals(), 4.0 / 6.0);
}

// GP systems often send no decile; matching derives one from the postcode and the funnel takes
// it from the matched event. What the referrer sent is never replaced.
TEST(EquityFunnelTest, ADecileFromMatchingPlacesAReferralThatCameWithout) {
  EquityFunnelBook book({/*core20_share_of_population=*/0.2, /*suppress_below=*/1});
  const absl::Time t0 = absl::FromUnixSeconds(1795440000);
  auto observe = [&](v1::Event e, const std::string& rid, absl::Time at) {
    events::Seal(e, rid, "test", at);
    book.Observe(e);
  };
  auto matched_with = [](int decile) {
    v1::Event matched;
    matched.mutable_referral_matched()->mutable_referral()->mutable_profile()->set_imd_decile(
        decile);
    return matched;
  };
  // r0: no decile sent, matching found decile 1. r1: decile 9 sent, a matched event saying 2
  // does not move it. r2: no decile anywhere. Each is assigned.
  for (int i = 0; i < 3; ++i) {
    v1::Event received;
    if (i == 1) {
      received.mutable_referral_received()->mutable_referral()->mutable_profile()->set_imd_decile(
          9);
    } else {
      received.mutable_referral_received();
    }
    observe(received, "r" + std::to_string(i), t0);
  }
  observe(matched_with(1), "r0", t0 + absl::Minutes(1));
  observe(matched_with(2), "r1", t0 + absl::Minutes(1));
  observe(matched_with(0), "r2", t0 + absl::Minutes(1));
  // r3: its match read before its receipt (each topic is read on its own) still counts.
  observe(matched_with(1), "r3", t0 + absl::Minutes(1));
  v1::Event late_received;
  late_received.mutable_referral_received();
  observe(late_received, "r3", t0);

  v1::EquityFunnel funnel = book.Funnel();
  std::map<std::string, v1::FunnelCell> cells = CellsOf(funnel);
  EXPECT_EQ(cells["all/all"].referred(), 4);
  EXPECT_EQ(cells["all/all"].assigned(), 4);
  EXPECT_EQ(cells["imd_quintile/1 (most deprived)"].referred(), 2);
  EXPECT_EQ(cells["imd_quintile/1 (most deprived)"].assigned(), 2);
  EXPECT_EQ(cells["imd_quintile/5 (least deprived)"].referred(), 1);
  EXPECT_EQ(cells["imd_quintile/unknown"].referred(), 1);
  EXPECT_EQ(cells.count("imd_quintile/2"), 0u);
  EXPECT_DOUBLE_EQ(funnel.core20_share_of_referrals(), 2.0 / 3.0);
}

// Matches that wait for their receipt are bounded as the funnel is: past the bound the oldest is
// forgotten (its referral then counts as not assigned), the newer ones still count.
TEST(EquityFunnelTest, EarlyMatchesAreBounded) {
  EquityFunnelBook book({/*core20_share_of_population=*/0.2, /*suppress_below=*/1,
                         /*referrals=*/2});
  const absl::Time t0 = absl::FromUnixSeconds(1795440000);
  auto observe = [&](v1::Event e, const std::string& rid) {
    events::Seal(e, rid, "test", t0);
    book.Observe(e);
  };
  v1::Event matched;
  matched.mutable_referral_matched()->mutable_referral()->mutable_profile()->set_imd_decile(1);
  v1::Event received;
  received.mutable_referral_received();
  for (const char* rid : {"r0", "r1", "r2"}) observe(matched, rid);
  for (const char* rid : {"r0", "r2"}) observe(received, rid);

  v1::EquityFunnel funnel = book.Funnel();
  std::map<std::string, v1::FunnelCell> cells = CellsOf(funnel);
  EXPECT_EQ(cells["all/all"].referred(), 2);
  EXPECT_EQ(cells["all/all"].assigned(), 1);
  EXPECT_EQ(cells["imd_quintile/1 (most deprived)"].referred(), 1);
  EXPECT_EQ(cells["imd_quintile/unknown"].referred(), 1);
}

// A poison record of the directory topic, set aside by signpost-matching-directory, is counted
// with its source topic and reason like every other dead letter.
TEST(MonitorTest, DeadLettersOfTheDirectoryTopicAreCounted) {
  Monitor monitor("p.", {}, absl::Hours(24), [] { return kNow; });
  monitor.Observe(Message("signpost.deadletter", kNow, "garbage",
                          {{"dlq-reason", "value is not a serialized signpost.v1.Event"},
                           {"dlq-source-topic", "p.signpost.directory.resources"},
                           {"dlq-source-partition", "1"},
                           {"dlq-source-offset", "7"},
                           {"dlq-consumer-group", "p.signpost-matching-directory"}}));
  v1::FlowSnapshot s = monitor.Snapshot(kNow);
  ASSERT_EQ(s.dead_letters_size(), 1);
  EXPECT_EQ(s.dead_letters(0).source_topic(), "signpost.directory.resources");
  EXPECT_EQ(s.dead_letters(0).reason(), "value is not a serialized signpost.v1.Event");
  EXPECT_EQ(s.dead_letters(0).count(), 1);
  ASSERT_EQ(s.latest_dead_letters_size(), 1);
  EXPECT_EQ(s.latest_dead_letters(0).group(), "signpost-matching-directory");
}

// Rejections are counted by source system and the field they broke (without indices), not by
// their reason text, which differs for every referral; dead letters by source and reason, each
// text cut short and valid UTF-8. However many distinct ones arrive, the counts stay bounded.
TEST(MonitorTest, RejectionAndDeadLetterCountsStayBoundedWhateverArrives) {
  Monitor monitor("p.", {}, absl::Hours(24), [] { return kNow; });
  auto reject = [&](const std::string& system, const std::string& field,
                    const std::string& reason) {
    v1::Event e;
    auto* r = e.mutable_referral_rejected();
    r->set_source_system(system);
    r->set_reason(reason);
    auto* v = r->add_violations();
    v->set_field(field);
    v->set_description(reason);
    monitor.Observe(Message("signpost.referral.rejected", kNow, Event(e)));
  };
  for (int i = 0; i < 5000; ++i) {
    std::string n = std::to_string(i);
    reject("emis-north", "profile.inclusion_groups[" + n + "]",
           "profile.inclusion_groups[" + n + "]: 99" + n + " is not a known group");
  }
  reject("emis-north", "referrer.ods_code", "referrer.ods_code: XYZ is not an ODS code");
  reject("emis-north", "", "value is not a serialized signpost.v1.ReferralSubmission");
  v1::FlowSnapshot s = monitor.Snapshot(kNow);
  std::map<std::string, int64_t> by_field;
  for (const auto& c : s.rejections()) {
    EXPECT_EQ(c.source_system(), "emis-north");
    by_field[c.reason()] = c.count();
  }
  EXPECT_EQ(by_field, (std::map<std::string, int64_t>{{"profile.inclusion_groups[]", 5000},
                                                      {"referrer.ods_code", 1},
                                                      {"(the submission as a whole)", 1}}));

  // A flood of distinct source systems (free text, any length) and dead-letter reasons.
  for (int i = 0; i < 20000; ++i) {
    std::string n = std::to_string(i);
    reject("system-" + n + std::string(10000, 'x'), "referrer.ods_code", "bad");
    monitor.Observe(
        Message("signpost.deadletter", kNow, "garbage",
                {{"dlq-reason", "case r-" + n + " kept changing" + std::string(5000, '!')},
                 {"dlq-source-topic", "p.signpost.referral.received"}}));
  }
  monitor.Observe(Message("signpost.deadletter", kNow, "garbage",
                          {{"dlq-reason", std::string("bad \xff\xfe bytes \xe2\x82", 15)},
                           {"dlq-source-topic", "p.signpost.referral.received"}}));
  s = monitor.Snapshot(kNow);
  EXPECT_LE(s.rejections_size(), 501);
  EXPECT_LE(s.dead_letters_size(), 501);
  int64_t rejections = 0, dead = 0, other_rejections = 0, other_dead = 0;
  for (const auto& c : s.rejections()) {
    EXPECT_LE(c.source_system().size(), 200u);
    rejections += c.count();
    if (c.source_system() == "(other)") other_rejections = c.count();
  }
  for (const auto& c : s.dead_letters()) {
    EXPECT_LE(c.reason().size(), 200u);
    dead += c.count();
    if (c.reason() == "(other)") other_dead = c.count();
  }
  // Nothing is lost from the totals: what no longer has a pair of its own counts as other.
  EXPECT_EQ(rejections, 5002 + 20000);
  EXPECT_EQ(dead, 20001);
  EXPECT_GT(other_rejections, 19000);
  EXPECT_GT(other_dead, 19000);
  // Every text shown is valid UTF-8: the snapshot serialises and reads back as it was.
  v1::FlowSnapshot again;
  ASSERT_TRUE(again.ParseFromString(s.SerializeAsString()));
  EXPECT_EQ(again.latest_dead_letters(0).reason(), "bad ?? bytes ??");
}

TEST(BoundedLabelTest, CutAtACharacterAndValid) {
  EXPECT_EQ(BoundedLabel("caf\xc3\xa9 au lait", 4), "caf");  // never half of the é
  EXPECT_EQ(BoundedLabel("caf\xc3\xa9", 5), "caf\xc3\xa9");
  EXPECT_EQ(BoundedLabel("\xc0\xaf ok", 10), "?? ok");  // an overlong '/'
  EXPECT_EQ(BoundedLabel("\xed\xa0\x80", 10), "???");   // a surrogate
  EXPECT_EQ(FieldPathWithoutIndices("needs[3].options[12].resource_id"),
            "needs[].options[].resource_id");
  EXPECT_EQ(FieldPathWithoutIndices("referrer.ods_code"), "referrer.ods_code");
  EXPECT_EQ(FieldPathWithoutIndices("needs[7"), "needs[]");
}

// Submissions (protobuf ReferralSubmission or FHIR JSON) and dead letters are not events: the
// monitor never parses them as one, so protobuf has nothing to complain of, and they count only
// as messages of their topic.
TEST(MonitorTest, SubmissionsAndDeadLettersAreNotReadAsEvents) {
  ProtobufLog().clear();
  google::protobuf::LogHandler* previous = google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string& message) {
        ProtobufLog().push_back(message);
      });
  Monitor monitor("p.", {}, absl::Hours(24), [] { return kNow; });
  v1::ReferralSubmission submission;
  v1::Referral* r = submission.mutable_referral();
  r->set_source_system("emis-north");
  r->set_source_referral_id("S-1");
  r->mutable_identity()->set_given_name("Amira");
  r->mutable_identity()->mutable_date_of_birth()->set_year(1950);
  r->mutable_identity()->mutable_date_of_birth()->set_month(4);
  r->mutable_identity()->mutable_date_of_birth()->set_day(2);
  monitor.Observe(Message("signpost.referral.submitted", kNow, submission.SerializeAsString(),
                          {{"content-type", "application/x-protobuf"}}));
  monitor.Observe(Message("signpost.referral.submitted", kNow,
                          R"({"resourceType":"Bundle","type":"message","entry":[]})",
                          {{"content-type", "application/fhir+json"}}));
  monitor.Observe(Message(
      "signpost.deadletter", kNow, submission.SerializeAsString(),
      {{"dlq-reason", "unreadable"}, {"dlq-source-topic", "p.signpost.referral.submitted"}}));
  google::protobuf::SetLogHandler(previous);
  EXPECT_TRUE(ProtobufLog().empty()) << ProtobufLog().front();
  v1::FlowSnapshot s = monitor.Snapshot(kNow);
  std::map<std::string, int64_t> totals;
  for (const auto& t : s.topics()) totals[t.topic()] = t.messages_total();
  EXPECT_EQ(totals["signpost.referral.submitted"], 2);
  EXPECT_EQ(totals["signpost.deadletter"], 1);
  EXPECT_EQ(s.rejections_size(), 0);
  EXPECT_EQ(s.dead_letters_size(), 1);
}

TEST(MonitorTest, TheDirectoryTopicFillsTheProvisionViewAndItsTombstonesEmptyIt) {
  absl::Time now = kNow;
  Monitor monitor("p.", {}, absl::Hours(24), [&now] { return now; });
  monitor.SetPostcodes({geo::PostcodeRow{.code = "LS6 1BD", .imd_decile = 1}});
  v1::Event e;
  v1::Resource* r = e.mutable_resource_upserted()->mutable_resource();
  r->set_id("res-1");
  r->add_locations()->set_postcode("LS6 1BD");
  r->mutable_capacity()->set_places_total(12);
  // Published long before the look-back: the directory is current however old.
  auto upsert = Message("signpost.directory.resources", kNow - absl::Hours(24 * 90), Event(e));
  upsert.key = "res-1";
  monitor.Observe(upsert);
  EXPECT_EQ(monitor.Provision().quintiles(0).resource_places(), 12);
  auto tombstone = upsert;
  tombstone.value.reset();
  monitor.Observe(tombstone);
  now += absl::Seconds(3);  // the view is made again at most every 2 s
  EXPECT_EQ(monitor.Provision().quintiles(0).resource_places(), 0);
  EXPECT_EQ(monitor.Provision().districts_size(), 0);
}

}  // namespace
}  // namespace signpost::monitor

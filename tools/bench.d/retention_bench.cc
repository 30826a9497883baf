// signpost-bench-retention: what Redis holds per referral, open and after the retention settings
// have done their work (issue 24). N referrals go through intake's status view and follow-up's case
// store as the services write them (RedisStatusStore, SealingCaseStore over RedisCaseStore with the
// case workflow), are worked to closure, and then the services' clock (OffsetClock, the same
// --clock-offset-file mechanism) is moved past the retention and the sweeps run. After each stage:
// Redis's used_memory and the size of its append-only file once rewritten (what a restart loads).
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/config/address.h"
#include "common/crypto/data_keyring.h"
#include "common/crypto/personal_details_cipher.h"
#include "common/events/event_factory.h"
#include "common/process/offset_clock.h"
#include "common/redis/redis_pool.h"
#include "services/followup/case_commands.h"
#include "services/followup/case_details_seal.h"
#include "services/followup/case_retirement.h"
#include "services/followup/redis_case_store.h"
#include "services/followup/sealing_case_store.h"
#include "services/intake/redis_status_store.h"

namespace signpost {
namespace {

struct Sizes {
  int64_t used_memory = 0;
  int64_t aof_bytes = 0;
  int64_t keys = 0;
};

int64_t InfoField(redis::RedisClient& redis, const std::string& section, const std::string& name) {
  auto info = redis.Execute({"INFO", section});
  if (!info.ok()) return -1;
  for (absl::string_view line : absl::StrSplit(info->str, "\r\n")) {
    if (absl::ConsumePrefix(&line, name + ":")) {
      int64_t v = 0;
      if (absl::SimpleAtoi(line, &v)) return v;
    }
  }
  return -1;
}

// The append-only file as a restart would load it: rewritten first (BGREWRITEAOF), then every
// file of it (Redis 7 keeps a base and increments in appendonlydir) summed.
int64_t RewrittenAofBytes(redis::RedisClient& redis, const std::string& dir) {
  while (InfoField(redis, "persistence", "aof_rewrite_in_progress") == 1 ||
         InfoField(redis, "persistence", "aof_rewrite_scheduled") == 1) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  (void)redis.Execute({"BGREWRITEAOF"});
  absl::SleepFor(absl::Milliseconds(100));
  while (InfoField(redis, "persistence", "aof_rewrite_in_progress") == 1 ||
         InfoField(redis, "persistence", "aof_rewrite_scheduled") == 1) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  absl::SleepFor(absl::Milliseconds(1100));  // the increment file's fsync (everysec)
  int64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.find(".aof") != std::string::npos) {
      total += static_cast<int64_t>(entry.file_size());
    }
  }
  return total;
}

Sizes Measure(redis::RedisClient& redis, const std::string& dir, const std::string& outbox) {
  // The outbox publisher deletes what the broker has; there is none here, so do as it would.
  (void)redis.Execute({"DEL", outbox});
  Sizes s;
  s.used_memory = InfoField(redis, "memory", "used_memory");
  s.aof_bytes = RewrittenAofBytes(redis, dir);
  auto keys = redis.Execute({"DBSIZE"});
  s.keys = keys.ok() ? keys->integer : -1;
  return s;
}

v1::Event Matched(const std::string& rid, int i, absl::Time at) {
  v1::Event e;
  auto* m = e.mutable_referral_matched();
  auto* r = m->mutable_referral();
  r->set_source_system("bench-gp-system");
  r->set_source_referral_id(absl::StrCat("EMIS-2026-", 100000 + i));
  r->mutable_referrer()->set_ods_code("A81001");
  r->mutable_referrer()->set_name("Dr Amara Okafor");
  auto* id = r->mutable_identity();
  id->set_nhs_number("9434765919");
  id->set_given_name("Maria");
  id->set_family_name("Kowalska");
  id->mutable_date_of_birth()->set_year(1948);
  id->mutable_date_of_birth()->set_month(3);
  id->mutable_date_of_birth()->set_day(14);
  id->add_address_lines("12 Brudenell Road");
  id->add_address_lines("Hyde Park");
  id->set_postcode("LS6 1BD");
  id->set_phone("0113 496 0000");
  id->set_email("maria.k@example.org");
  r->set_notes("Prefers a morning call. Lives alone since bereavement, rarely leaves the house.");
  auto* n1 = m->add_needs()->mutable_need();
  n1->set_category(v1::NEED_CATEGORY_LONELINESS);
  n1->set_description("Lives alone since bereavement, rarely leaves the house");
  auto* n2 = m->add_needs()->mutable_need();
  n2->set_category(v1::NEED_CATEGORY_CARER_SUPPORT);
  n2->set_description("Cares for her brother");
  // Cases spread over link workers as in a region (about 100 open cases each).
  m->set_link_worker_id(absl::StrCat("lw-", i % 3000));
  m->set_network_id(absl::StrCat("pcn-", i % 1250));
  m->set_priority(v1::URGENCY_ROUTINE);
  events::Seal(e, rid, "signpost-matching", at);
  return e;
}

intake::StatusUpdate Status(const std::string& event_id, v1::ReferralState state, absl::Time at) {
  intake::StatusUpdate u;
  u.change.set_event_id(event_id);
  u.change.set_state(state);
  u.change.set_event_type(v1::ReferralState_Name(state));
  u.change.mutable_at()->set_seconds(absl::ToUnixSeconds(at));
  u.source.set_source_system("bench-gp-system");
  u.source.set_source_referral_id(event_id.substr(0, event_id.find('/')));
  u.referrer_ods_code = "A81001";
  u.priority = v1::URGENCY_ROUTINE;
  return u;
}

void SetOffsetDays(const std::string& file, int days) {
  std::ofstream(file) << int64_t{days} * 24 * 3600 << "\n";
  absl::SleepFor(absl::Milliseconds(300));  // OffsetClock reads the file again after 100 ms
}

}  // namespace
}  // namespace signpost

int main(int argc, char** argv) {
  using namespace signpost;
  CLI::App app{"What Redis holds per referral, open and after retention"};
  std::string redis_address, redis_dir, data_keys, offset_file, json_path;
  int n = 20000;
  app.add_option("--redis", redis_address)->required();
  app.add_option("--redis-dir", redis_dir, "redis-server's --dir (for the AOF)")->required();
  app.add_option("--data-keys", data_keys)->required();
  app.add_option("--clock-offset-file", offset_file)->required();
  app.add_option("--referrals", n)->capture_default_str();
  app.add_option("--json", json_path);
  CLI11_PARSE(app, argc, argv);

  redis::PoolOptions pool_options;
  pool_options.address = *ParseRedisAddress(redis_address);
  pool_options.size = 2;
  auto pool = redis::RedisPool::Create(pool_options);
  if (!pool.ok()) {
    std::cerr << pool.status() << "\n";
    return 1;
  }
  auto keyring = crypto::DataKeyring::Load(data_keys);
  if (!keyring.ok()) {
    std::cerr << keyring.status() << "\n";
    return 1;
  }
  crypto::PersonalDetailsCipher cipher(*keyring);
  SetOffsetDays(offset_file, 0);
  OffsetClock offset_clock(offset_file);
  std::function<absl::Time()> clock = [&offset_clock] { return offset_clock.Now(); };

  // The defaults of --status-retention-days, --closed-case-retention-days and the tombstones.
  intake::StatusRetention status_retention;
  status_retention.clock = clock;
  followup::CaseRetention case_retention;
  case_retention.clock = clock;
  intake::RedisStatusStore statuses(**pool, status_retention);
  followup::RedisKeys keys;
  followup::RedisCaseStore redis_cases(**pool, keys, "", 10000, case_retention);
  followup::CaseDetailsSeal seal(cipher);
  followup::SealingCaseStore cases(redis_cases, seal);
  followup::CaseWorkflow workflow(followup::WorkflowOptions{});
  followup::CaseCommands commands(cases, workflow, nullptr, clock, nullptr);
  followup::CaseRetirement retirement(**pool, keys, case_retention);
  commands.set_retirement(&retirement);

  const Sizes empty = Measure(**pool, redis_dir, keys.Outbox());
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back(absl::StrCat("bench-", 100000 + i));

  // Open: intake's view (received, matched, assigned), then follow-up's case, as each service
  // has them while the case is worked.
  constexpr int kBatch = 500;
  for (int start = 0; start < n; start += kBatch) {
    std::vector<std::pair<std::string, intake::StatusUpdate>> updates;
    for (int i = start; i < std::min(n, start + kBatch); ++i) {
      const absl::Time at = clock();
      updates.push_back({ids[i], Status(ids[i] + "/received", v1::REFERRAL_STATE_RECEIVED, at)});
      updates.push_back({ids[i], Status(ids[i] + "/matched", v1::REFERRAL_STATE_MATCHED, at)});
      updates.push_back({ids[i], Status(ids[i] + "/assigned", v1::REFERRAL_STATE_ASSIGNED, at)});
    }
    if (absl::Status s = statuses.ApplyMany(updates); !s.ok()) {
      std::cerr << s << "\n";
      return 1;
    }
  }
  const Sizes views_open = Measure(**pool, redis_dir, keys.Outbox());
  for (int start = 0; start < n; start += kBatch) {
    std::vector<v1::Event> events;
    for (int i = start; i < std::min(n, start + kBatch); ++i) {
      events.push_back(Matched(ids[i], i, clock()));
    }
    std::vector<const v1::Event*> batch;
    for (const auto& e : events) batch.push_back(&e);
    for (const absl::Status& s : commands.OpenMany(batch)) {
      if (!s.ok()) {
        std::cerr << s << "\n";
        return 1;
      }
    }
  }
  const Sizes open = Measure(**pool, redis_dir, keys.Outbox());

  // Worked to closure: the link worker reaches the person, agrees a plan, and closes the case
  // (completed); then intake's view says closed.
  for (int i = 0; i < n; ++i) {
    const std::string queue = absl::StrCat("lw-", i % 3000);
    auto contact =
        commands.Act(queue, ids[i], [&](const followup::LoadedCase& current, absl::Time now) {
          v1::RecordContactRequest request;
          request.set_link_worker_id(queue);
          request.set_referral_id(ids[i]);
          request.set_result(v1::CONTACT_RESULT_REACHED);
          request.set_note("Spoke to Maria; happy to meet at the library on Thursday.");
          return workflow.RecordContact(current, request, now);
        });
    auto plan = contact.ok()
                    ? commands.Act(queue, ids[i],
                                   [&](const followup::LoadedCase& current, absl::Time now) {
                                     v1::AgreePlanRequest request;
                                     request.set_link_worker_id(queue);
                                     request.set_referral_id(ids[i]);
                                     request.set_plan(
                                         "What matters: getting out of the house and "
                                         "seeing people. Steps: lunch club on Tuesdays; "
                                         "carers' centre for a carer's assessment; "
                                         "Citizens Advice about the arrears.");
                                     return workflow.AgreePlan(current, request, now);
                                   })
                    : contact;
    auto closed = plan.ok()
                      ? commands.Act(queue, ids[i],
                                     [&](const followup::LoadedCase& current, absl::Time now) {
                                       v1::CloseCaseRequest request;
                                       request.set_link_worker_id(queue);
                                       request.set_referral_id(ids[i]);
                                       request.set_reason(v1::CLOSURE_REASON_COMPLETED);
                                       request.set_note(
                                           "Attending the Tuesday lunch club; carer's "
                                           "assessment booked.");
                                       return workflow.Close(current, request, now);
                                     })
                      : plan;
    if (!closed.ok()) {
      std::cerr << closed.status() << "\n";
      return 1;
    }
  }
  const Sizes cases_closed = Measure(**pool, redis_dir, keys.Outbox());
  for (int i = 0; i < n; ++i) {
    intake::StatusUpdate update = Status(ids[i] + "/closed", v1::REFERRAL_STATE_CLOSED, clock());
    update.closure_reason = v1::CLOSURE_REASON_COMPLETED;
    if (absl::Status s = statuses.Apply(ids[i], update); !s.ok()) {
      std::cerr << s << "\n";
      return 1;
    }
  }
  const Sizes closed = Measure(**pool, redis_dir, keys.Outbox());

  auto sweep = [&] {
    while (true) {
      auto a = retirement.RetireDue(kBatch);
      auto b = statuses.ExpireDue(kBatch);
      if (!a.ok() || !b.ok()) {
        std::cerr << (a.ok() ? b.status() : a.status()) << "\n";
        return false;
      }
      if (*a < kBatch && *b < kBatch) return true;
    }
  };
  // Past both retentions (30 days for cases, 180 for intake's view): tombstones only.
  SetOffsetDays(offset_file, 181);
  if (!sweep()) return 1;
  const Sizes retained = Measure(**pool, redis_dir, keys.Outbox());
  // Past the tombstones too: back to where it started.
  SetOffsetDays(offset_file, 181 + 366);
  if (!sweep()) return 1;
  const Sizes forgotten = Measure(**pool, redis_dir, keys.Outbox());

  auto per = [n](int64_t a, int64_t b) { return static_cast<double>(a - b) / n; };
  // Per referral, in memory and in the rewritten AOF.
  const double view_open = per(views_open.used_memory, empty.used_memory);
  const double case_open = per(open.used_memory, views_open.used_memory);
  const double case_closed = per(cases_closed.used_memory, views_open.used_memory);
  const double view_closed = view_open + per(closed.used_memory, cases_closed.used_memory);
  // What is left past the tombstones is the queues' task feeds (streams capped at
  // --feed-max-length entries per queue, not per case): counted apart.
  const double feeds = per(forgotten.used_memory, empty.used_memory);
  const double feeds_aof = per(forgotten.aof_bytes, empty.aof_bytes);
  const double tomb = per(retained.used_memory, forgotten.used_memory);
  const double view_open_aof = per(views_open.aof_bytes, empty.aof_bytes);
  const double case_open_aof = per(open.aof_bytes, views_open.aof_bytes);
  const double case_closed_aof = per(cases_closed.aof_bytes, views_open.aof_bytes);
  const double view_closed_aof = view_open_aof + per(closed.aof_bytes, cases_closed.aof_bytes);
  const double tomb_aof = per(retained.aof_bytes, forgotten.aof_bytes);
  // England: 1.3 M referrals a year, each case open ~3 months: 325,000 open cases (and their
  // views). Ended cases are held 30 days (1.3M x 30/365), closed views 180 days (1.3M x
  // 180/365), tombstones 365 days in each service (1.3M).
  const double year = 1.3e6;
  const double open_cases = 325000;
  const double ended_held = year * 30 / 365;
  const double views_held = year * 180 / 365;
  const double steady = open_cases * (view_open + case_open) + ended_held * case_closed +
                        views_held * view_closed + year * tomb;
  const double steady_aof = open_cases * (view_open_aof + case_open_aof) +
                            ended_held * case_closed_aof + views_held * view_closed_aof +
                            year * tomb_aof;
  const double growth = year * (case_closed + view_closed);
  const double growth_aof = year * (case_closed_aof + view_closed_aof);
  const double steady_open = open_cases * (view_open + case_open);
  auto mb = [](double b) { return b / 1e6; };
  std::printf("referrals: %d (intake's status view; follow-up's case, tasks, timers)\n", n);
  std::printf("%-36s %14s %14s %10s\n", "stage", "used_memory", "AOF rewritten", "keys");
  for (const auto& [name, s] :
       std::vector<std::pair<std::string, Sizes>>{{"empty", empty},
                                                  {"intake views open", views_open},
                                                  {"views and cases open", open},
                                                  {"cases closed (within retention)", cases_closed},
                                                  {"views closed too", closed},
                                                  {"past retention (tombstones only)", retained},
                                                  {"past the tombstones", forgotten}}) {
    std::printf("%-36s %14lld %14lld %10lld\n", name.c_str(), static_cast<long long>(s.used_memory),
                static_cast<long long>(s.aof_bytes), static_cast<long long>(s.keys));
  }
  std::printf("bytes per open referral: %.0f in memory (view %.0f + case %.0f), %.0f in the AOF\n",
              view_open + case_open, view_open, case_open, view_open_aof + case_open_aof);
  std::printf("bytes per ended case held: %.0f; per closed view held: %.0f (memory)\n", case_closed,
              view_closed);
  std::printf("bytes per referral past retention (its two tombstones): %.0f memory, %.0f AOF\n",
              tomb, tomb_aof);
  std::printf(
      "bytes per referral past its tombstones: %.0f in memory, %.0f AOF (the queues' task feeds: "
      "capped per queue, included in every figure above)\n",
      feeds, feeds_aof);
  std::printf(
      "England steady state (325k open, %.0fk ended cases, %.0fk closed views, %.0fk tombstones "
      "each): %.0f MB in memory, %.0f MB AOF\n",
      ended_held / 1e3, views_held / 1e3, year / 1e3, mb(steady), mb(steady_aof));
  std::printf(
      "of which: open %.0f MB, ended cases %.0f MB, closed views %.0f MB, tombstones %.0f MB\n",
      mb(steady_open), mb(ended_held * case_closed), mb(views_held * view_closed), mb(year * tomb));
  std::printf("without retention, every year adds %.0f MB in memory, %.0f MB AOF, for ever\n",
              mb(growth), mb(growth_aof));
  if (!json_path.empty()) {
    std::ofstream(json_path) << "{\"referrals\": " << n
                             << ", \"bytes_per_open_referral\": " << view_open + case_open
                             << ", \"aof_bytes_per_open_referral\": "
                             << view_open_aof + case_open_aof
                             << ", \"bytes_per_ended_case_held\": " << case_closed
                             << ", \"bytes_per_closed_view_held\": " << view_closed
                             << ", \"bytes_per_tombstoned_referral\": " << tomb
                             << ", \"feed_bytes_per_referral\": " << feeds
                             << ", \"england_steady_state_mb\": " << mb(steady)
                             << ", \"england_steady_state_aof_mb\": " << mb(steady_aof)
                             << ", \"growth_per_year_without_retention_mb\": " << mb(growth)
                             << "}\n";
  }
  return 0;
}

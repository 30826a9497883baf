#include "tests/support/redis_sentinel_set.h"

#include <signal.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace signpost::testing {
namespace {

using redis::Reply;

// The count of elements of an array reply, -1 for anything else.
int ArraySize(const absl::StatusOr<Reply>& reply) {
  if (!reply.ok() || reply->type != Reply::Type::kArray) return -1;
  return static_cast<int>(reply->elements.size());
}

}  // namespace

RedisSentinelSet::RedisSentinelSet(RedisSentinelSetOptions options)
    : options_(std::move(options)) {}

RedisSentinelSet::~RedisSentinelSet() {
  // Sentinels first, so that they do not start a failover while the servers stop.
  for (auto& s : sentinels_) s->Stop();
  for (auto& s : servers_) s->Stop();
}

absl::Status RedisSentinelSet::Start() {
  RedisServerOptions primary_options{.append_only = options_.append_only,
                                     .username = options_.username,
                                     .password = options_.password};
  servers_.push_back(std::make_unique<RedisServer>(primary_options));
  if (absl::Status s = servers_[0]->Start(); !s.ok()) return s;
  RedisServerOptions replica_options = primary_options;
  replica_options.replica_of = servers_[0]->address();
  servers_.push_back(std::make_unique<RedisServer>(replica_options));
  if (absl::Status s = servers_[1]->Start(); !s.ok()) return s;
  if (absl::Status s = WaitForReplicas(1); !s.ok()) return s;

  const std::string& name = options_.master_name;
  std::vector<std::string> lines = {
      absl::StrCat("sentinel monitor ", name, " 127.0.0.1 ", servers_[0]->port(), " 2"),
      absl::StrCat("sentinel down-after-milliseconds ", name, " ", options_.down_after_ms),
      absl::StrCat("sentinel failover-timeout ", name, " ", options_.failover_timeout_ms),
      absl::StrCat("sentinel parallel-syncs ", name, " 1"),
  };
  if (!options_.password.empty()) {
    lines.push_back(absl::StrCat("sentinel auth-pass ", name, " ", options_.password));
  }
  if (!options_.username.empty()) {
    lines.push_back(absl::StrCat("sentinel auth-user ", name, " ", options_.username));
  }
  if (!options_.sentinel_password.empty()) {
    // requirepass guards the sentinel; sentinel-pass is what it gives the other sentinels.
    lines.push_back(absl::StrCat("sentinel sentinel-pass ", options_.sentinel_password));
  }
  for (int i = 0; i < 3; ++i) {
    RedisServerOptions sentinel_options{
        .password = options_.sentinel_password, .sentinel = true, .extra_config = lines};
    sentinels_.push_back(std::make_unique<RedisServer>(sentinel_options));
    if (absl::Status s = sentinels_.back()->Start(); !s.ok()) {
      return absl::UnavailableError(absl::StrCat("sentinel ", i, ": ", s.message()));
    }
  }
  return WaitForSentinelsToKnowEachOther(absl::Seconds(60));
}

std::string RedisSentinelSet::sentinels() const {
  std::vector<std::string> addresses;
  for (const auto& s : sentinels_) addresses.push_back(s->address());
  return absl::StrJoin(addresses, ",");
}

absl::Status RedisSentinelSet::WaitForSentinelsToKnowEachOther(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last;
  while (absl::Now() < deadline) {
    bool all = true;
    for (const auto& s : sentinels_) {
      const int replicas = ArraySize(s->Run({"SENTINEL", "REPLICAS", options_.master_name}));
      const int others = ArraySize(s->Run({"SENTINEL", "SENTINELS", options_.master_name}));
      if (replicas < 1 || others < 2) {
        all = false;
        last = absl::StrCat("sentinel ", s->address(), " knows ", replicas, " replicas and ",
                            others, " other sentinels");
        break;
      }
    }
    if (all) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(200));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("sentinels did not find each other in time: ", last));
}

absl::Status RedisSentinelSet::WaitForReplicas(int replicas, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last;
  while (absl::Now() < deadline) {
    RedisServer* primary =
        servers_.size() == 2 && !sentinels_.empty() ? Primary() : servers_[0].get();
    if (primary && primary->running()) {
      auto info = primary->Run({"INFO", "replication"});
      if (info.ok() && info->type == Reply::Type::kString) {
        last = info->str;
        int online = 0;
        for (size_t at = info->str.find("state=online"); at != std::string::npos;
             at = info->str.find("state=online", at + 1)) {
          ++online;
        }
        if (online >= replicas && absl::StrContains(info->str, "role:master")) {
          return absl::OkStatus();
        }
      }
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("the primary has not ", replicas, " replicas online: ", last));
}

absl::StatusOr<std::string> RedisSentinelSet::PrimaryAddress() const {
  std::string last = "no sentinel";
  for (const auto& s : sentinels_) {
    if (!s->running()) continue;
    auto reply = s->Run({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", options_.master_name});
    if (reply.ok() && reply->type == Reply::Type::kArray && reply->elements.size() == 2) {
      return absl::StrCat(reply->elements[0].str, ":", reply->elements[1].str);
    }
    last = reply.ok() ? reply->str : std::string(reply.status().message());
  }
  return absl::UnavailableError(absl::StrCat("no sentinel named the primary: ", last));
}

RedisServer* RedisSentinelSet::ServerAt(const std::string& address) {
  for (auto& s : servers_) {
    if (s->address() == address) return s.get();
  }
  return nullptr;
}

RedisServer* RedisSentinelSet::Primary() {
  auto address = PrimaryAddress();
  if (!address.ok()) return nullptr;
  return ServerAt(*address);
}

RedisServer* RedisSentinelSet::Replica() {
  RedisServer* primary = Primary();
  if (!primary) return nullptr;
  return primary == servers_[0].get() ? servers_[1].get() : servers_[0].get();
}

absl::StatusOr<std::string> RedisSentinelSet::KillPrimary() {
  RedisServer* primary = Primary();
  if (!primary) return absl::UnavailableError("the sentinels name no known primary");
  std::string address = primary->address();
  primary->Stop(/*crash=*/true);
  return address;
}

absl::StatusOr<std::string> RedisSentinelSet::WaitForFailover(const std::string& old_primary,
                                                              absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last;
  while (absl::Now() < deadline) {
    auto address = PrimaryAddress();
    if (address.ok() && *address != old_primary) {
      RedisServer* server = ServerAt(*address);
      if (server && server->running()) {
        auto role = server->Run({"ROLE"});
        if (role.ok() && role->type == Reply::Type::kArray && !role->elements.empty() &&
            role->elements[0].str == "master") {
          return *address;
        }
      }
    }
    last = address.ok() ? *address : std::string(address.status().message());
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("no failover from ", old_primary, " in time; sentinels say ", last));
}

}  // namespace signpost::testing

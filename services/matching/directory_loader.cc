#include "services/matching/directory_loader.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/kafka/retry_policy.h"
#include "services/matching/directory_applier.h"

namespace signpost::matching {
namespace {

absl::Status Prefixed(absl::string_view context, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

}  // namespace

DirectoryLoader::DirectoryLoader(kafka::TopicFollower::Options topic, DirectoryIndex& index,
                                 Roster& roster, PostcodeLookup& postcodes,
                                 std::string postcodes_csv)
    : index_(index),
      roster_(roster),
      postcodes_(postcodes),
      postcodes_csv_(std::move(postcodes_csv)),
      follower_(
          std::move(topic),
          [this]() -> absl::Status {
            auto generation = index_.BeginLoad();
            if (!generation.ok()) return generation.status();
            load_generation_ = *std::move(generation);
            return absl::OkStatus();
          },
          [this](const kafka::ConsumedMessage& m) {
            absl::Status s = ApplyDirectoryRecord(m, index_, roster_, load_generation_);
            if (kafka::IsPoison(s.code())) {
              // Group signpost-matching-directory puts it on the dead-letter topic, once.
              spdlog::warn("skipping unreadable directory record {}@{}: {}", m.partition, m.offset,
                           s.ToString());
              return absl::OkStatus();
            }
            return s;
          },
          [this] {
            if (absl::Status s = LoadPostcodes(); !s.ok()) return s;
            return index_.MarkLoaded(load_generation_);
          },
          [this] {
            auto loaded = index_.IsLoaded();
            return !loaded.ok() || *loaded;  // unreachable Redis is not a lost cache
          }) {}

absl::Status DirectoryLoader::LoadPostcodes() {
  if (postcodes_csv_.empty()) return absl::OkStatus();
  auto loaded = postcodes_.LoadCsv(postcodes_csv_);
  if (!loaded.ok()) return loaded.status();
  spdlog::info("loaded {} postcodes and districts from {}", *loaded, postcodes_csv_);
  return absl::OkStatus();
}

absl::Status DirectoryLoader::Start() {
  if (absl::Status s = LoadPostcodes(); !s.ok()) return Prefixed("loading postcodes", s);
  auto cleared = index_.ClearUnlessLoaded();
  if (!cleared.ok()) return Prefixed("checking the directory cache", cleared.status());
  if (*cleared > 0) {
    spdlog::info("cleared {} keys of an incomplete or older directory cache", *cleared);
  }
  if (absl::Status s = follower_.Start(); !s.ok()) {
    return Prefixed("following the directory topic", s);
  }
  return absl::OkStatus();
}

}  // namespace signpost::matching

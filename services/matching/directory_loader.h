#pragma once

#include <string>

#include "absl/status/status.h"
#include "common/kafka/topic_follower.h"
#include "services/matching/directory_index.h"
#include "services/matching/postcode_lookup.h"
#include "services/matching/roster.h"

namespace signpost::matching {

// Keeps the directory cache in Redis a copy of signpost.directory.resources. Start() loads the
// postcodes (from `postcodes_csv`, when named), clears a cache left incomplete or older, and
// follows the topic; whenever the cache is found lost it is read again from the beginning, the
// postcodes with it (they live in the same cache). Ready() once the copy has caught up.
class DirectoryLoader {
 public:
  DirectoryLoader(kafka::TopicFollower::Options topic, DirectoryIndex& index, Roster& roster,
                  PostcodeLookup& postcodes, std::string postcodes_csv);
  DirectoryLoader(const DirectoryLoader&) = delete;
  DirectoryLoader& operator=(const DirectoryLoader&) = delete;

  absl::Status Start();
  void Stop() { follower_.Stop(); }
  bool Ready() const { return follower_.Ready(); }

 private:
  absl::Status LoadPostcodes();

  DirectoryIndex& index_;
  Roster& roster_;
  PostcodeLookup& postcodes_;
  const std::string postcodes_csv_;
  // The cache generation the follower's current full read writes under (its thread's alone).
  std::string load_generation_;
  kafka::TopicFollower follower_;
};

}  // namespace signpost::matching

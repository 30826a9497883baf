// signpost-region: generates the synthetic region (tools/region/synthetic_region.h) from a real
// area's profile (West Yorkshire unless --profile names another), writes its postcode lookup to
// DIR/postcodes.csv, its practices to DIR/practices.txt, its queues to DIR/queues.txt and what the
// services need to know of it (the IMD edition, the Core20 share of its population) to
// DIR/region.env, and publishes the directory and roster to signpost.directory.resources when a
// Kafka bootstrap is given.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/events/event_factory.h"
#include "common/kafka/kafka_producer.h"
#include "common/kafka/topics.h"
#include "tools/region/default_region_profile.h"
#include "tools/region/synthetic_region.h"

namespace {

// FNV-1a over what the region publishes and writes: the same for the same region, whichever
// build made it, so a changed generator or profile is published again.
uint64_t Digest(const signpost::region::Region& region) {
  uint64_t hash = 1469598103934665603ULL;
  auto add = [&hash](const std::string& bytes) {
    for (unsigned char c : bytes) {
      hash ^= c;
      hash *= 1099511628211ULL;
    }
    hash ^= 0xff;  // a separator, so that ("ab", "c") differs from ("a", "bc")
    hash *= 1099511628211ULL;
  };
  for (const auto& n : region.networks) add(n.SerializeAsString());
  for (const auto& w : region.link_workers) add(w.SerializeAsString());
  for (const auto& r : region.resources) add(r.SerializeAsString());
  for (const auto& p : region.postcodes) {
    add(absl::StrFormat("%s,%.6f,%.6f,%s,%d", p.postcode, p.latitude, p.longitude, p.lsoa,
                        p.imd_decile));
  }
  return hash;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out = ".signpost/region";
  std::string bootstrap, prefix, profile_folder;
  int resources = 3000;
  uint64_t seed = 20261123;
  CLI::App app(
      "signpost-region: a synthetic region for the embedded default, tests and benchmarks");
  app.add_option("--out", out, "Folder for postcodes.csv, practices.txt and queues.txt")
      ->capture_default_str();
  app.add_option("--resources", resources, "Number of community resources")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--seed", seed, "Random seed")->capture_default_str();
  app.add_option("--profile", profile_folder,
                 "Folder of another area's profile (profile.json, lsoas.csv, postcodes.csv, "
                 "postcode_districts.csv); default the built-in West Yorkshire");
  app.add_option("--kafka-bootstrap", bootstrap, "Publish the directory and roster here")
      ->envname("SIGNPOST_KAFKA_BOOTSTRAP");
  app.add_option("--topic-prefix", prefix)->envname("SIGNPOST_TOPIC_PREFIX");
  CLI11_PARSE(app, argc, argv);

  signpost::region::RegionProfile profile;
  if (profile_folder.empty()) {
    profile = signpost::region::DefaultRegionProfile();
  } else {
    auto read = signpost::region::ReadRegionProfile(profile_folder);
    if (!read.ok()) {
      spdlog::critical("the region profile: {}", std::string(read.status().message()));
      return 2;
    }
    profile = *std::move(read);
  }
  auto region = signpost::region::GenerateRegion(profile, seed, resources);
  std::filesystem::create_directories(out);
  {
    std::ofstream csv(out + "/postcodes.csv");
    csv << "postcode,latitude,longitude,lsoa,imd_decile\n";
    for (const auto& p : region.postcodes) {
      csv << absl::StrFormat("%s,%.6f,%.6f,%s,%d\n", p.postcode, p.latitude, p.longitude, p.lsoa,
                             p.imd_decile);
    }
    std::ofstream practices(out + "/practices.txt");
    for (const auto& code : region.practice_ods_codes) practices << code << "\n";
    // The queues link-worker apps subscribe to: each link worker's, and each network's team queue.
    std::ofstream queues(out + "/queues.txt");
    for (const auto& w : region.link_workers) queues << w.id() << "\n";
    for (const auto& n : region.networks) queues << "team:" << n.id() << "\n";
    // Read by tools/run: matching records the edition with the deciles it gives, the monitor
    // sets the Core20 share of referrals against the region's own, and the digest of everything
    // published tells whether the directory already holds this region (the profile's name and
    // edition are plain text: the parser refuses control characters).
    std::ofstream env(out + "/region.env");
    env << absl::StrFormat("SIGNPOST_REGION_NAME='%s'\nSIGNPOST_IMD_EDITION=%s\n",
                           absl::StrReplaceAll(region.name, {{"'", ""}}), region.imd_edition)
        << absl::StrFormat("SIGNPOST_CORE20_POPULATION_SHARE=%.4f\n",
                           region.core20_population_share)
        << absl::StrFormat("SIGNPOST_REGION_DIGEST=%016x\n", Digest(region));
  }
  spdlog::info("{}: {} postcodes and districts, {} practices in {}", region.name,
               region.postcodes.size(), region.practice_ods_codes.size(), out);
  if (bootstrap.empty()) return 0;

  signpost::kafka::ProducerOptions options;
  options.bootstrap = bootstrap;
  options.client_id = "signpost-region";
  options.linger = absl::Milliseconds(20);
  auto producer = signpost::kafka::KafkaProducer::Create(options);
  if (!producer.ok()) {
    spdlog::critical("{}", producer.status().ToString());
    return 1;
  }
  std::string topic =
      signpost::kafka::TopicName(signpost::kafka::Topic::kDirectoryResources, prefix);
  std::vector<signpost::kafka::OutgoingMessage> messages;
  auto add = [&](const std::string& key, signpost::v1::Event event) {
    signpost::events::Seal(event, "", "signpost-region", absl::Now());
    messages.push_back(signpost::events::ToMessage(event, topic, key));
  };
  for (const auto& n : region.networks) {
    signpost::v1::Event e;
    *e.mutable_network_upserted()->mutable_network() = n;
    add("network:" + n.id(), e);
  }
  for (const auto& w : region.link_workers) {
    signpost::v1::Event e;
    *e.mutable_link_worker_upserted()->mutable_link_worker() = w;
    add("link-worker:" + w.id(), e);
  }
  for (const auto& r : region.resources) {
    signpost::v1::Event e;
    *e.mutable_resource_upserted()->mutable_resource() = r;
    add(r.id(), e);
  }
  if (auto sent = (*producer)->SendAll(messages); !sent.ok()) {
    spdlog::critical("publishing the directory: {}", sent.ToString());
    return 1;
  }
  spdlog::info("published {} resources, {} networks and {} link workers to {}",
               region.resources.size(), region.networks.size(), region.link_workers.size(), topic);
  return 0;
}

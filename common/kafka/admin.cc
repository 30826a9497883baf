#include "common/kafka/admin.h"

#include <memory>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "absl/strings/str_cat.h"
#include "common/kafka/topics.h"

namespace signpost::kafka {
namespace {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};

}  // namespace

absl::Status EnsureSignpostTopics(const TopicAdminOptions& options) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> settings = {{"bootstrap.servers", options.bootstrap}};
  for (const auto& [k, v] : options.properties) settings[k] = v;
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat("kafka admin setting ", k, ": ", errstr));
    }
  }
  std::unique_ptr<rd_kafka_t, HandleDeleter> rk(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("kafka admin: ", errstr));
  }

  std::vector<rd_kafka_NewTopic_t*> topics;
  for (const TopicSpec& spec : AllTopics()) {
    std::string name = absl::StrCat(options.prefix, spec.name);
    rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(
        name.c_str(), spec.partitions, options.replication_factor, errstr, sizeof(errstr));
    if (!topic) {
      rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());
      return absl::InvalidArgumentError(absl::StrCat("topic ", name, ": ", errstr));
    }
    std::string retention = std::to_string(spec.retention_ms);
    std::string min_isr = std::to_string(options.min_insync_replicas);
    rd_kafka_NewTopic_set_config(topic, "cleanup.policy", std::string(spec.cleanup_policy).c_str());
    rd_kafka_NewTopic_set_config(topic, "retention.ms", retention.c_str());
    rd_kafka_NewTopic_set_config(topic, "min.insync.replicas", min_isr.c_str());
    topics.push_back(topic);
  }

  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(rk.get()));
  rd_kafka_AdminOptions_t* admin_options =
      rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(
      admin_options, static_cast<int>(absl::ToInt64Milliseconds(options.timeout)), errstr,
      sizeof(errstr));
  rd_kafka_CreateTopics(rk.get(), topics.data(), topics.size(), admin_options, queue.get());
  rd_kafka_AdminOptions_destroy(admin_options);
  rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());

  rd_kafka_event_t* event = rd_kafka_queue_poll(
      queue.get(), static_cast<int>(absl::ToInt64Milliseconds(options.timeout)) + 5000);
  if (!event) return absl::UnavailableError("kafka admin: no answer to CreateTopics in time");
  absl::Status status;
  if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = absl::UnavailableError(
        absl::StrCat("kafka admin CreateTopics: ", rd_kafka_event_error_string(event)));
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    for (size_t i = 0; i < count; ++i) {
      rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        status = absl::UnavailableError(
            absl::StrCat("creating topic ", rd_kafka_topic_result_name(results[i]), ": ",
                         rd_kafka_topic_result_error_string(results[i])));
        break;
      }
    }
  }
  rd_kafka_event_destroy(event);
  return status;
}

}  // namespace signpost::kafka

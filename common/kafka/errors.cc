#include "common/kafka/errors.h"

#include "absl/strings/str_cat.h"

namespace signpost::kafka {

bool IsRetryable(RdKafka::ErrorCode code) {
  switch (code) {
    case RdKafka::ERR__TRANSPORT:
    case RdKafka::ERR__ALL_BROKERS_DOWN:
    case RdKafka::ERR__MSG_TIMED_OUT:
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__TIMED_OUT_QUEUE:
    case RdKafka::ERR__QUEUE_FULL:
    case RdKafka::ERR__RESOLVE:
    case RdKafka::ERR__WAIT_COORD:
    case RdKafka::ERR__IN_PROGRESS:
    case RdKafka::ERR__RETRY:
    case RdKafka::ERR__PARTITION_EOF:
    case RdKafka::ERR__NODE_UPDATE:
    case RdKafka::ERR__PREV_IN_PROGRESS:
    case RdKafka::ERR__REVOKE_PARTITIONS:
    case RdKafka::ERR__ASSIGN_PARTITIONS:
    case RdKafka::ERR_REQUEST_TIMED_OUT:
    case RdKafka::ERR_LEADER_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_LEADER_FOR_PARTITION:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RdKafka::ERR_NETWORK_EXCEPTION:
    case RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RdKafka::ERR_COORDINATOR_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_COORDINATOR:
    case RdKafka::ERR_REBALANCE_IN_PROGRESS:
    case RdKafka::ERR_KAFKA_STORAGE_ERROR:
    case RdKafka::ERR_FETCH_SESSION_ID_NOT_FOUND:
    case RdKafka::ERR_INVALID_FETCH_SESSION_EPOCH:
    case RdKafka::ERR_OFFSET_NOT_AVAILABLE:
    case RdKafka::ERR_PREFERRED_LEADER_NOT_AVAILABLE:
    case RdKafka::ERR_FENCED_LEADER_EPOCH:
    case RdKafka::ERR_UNKNOWN_LEADER_EPOCH:
    case RdKafka::ERR_BROKER_NOT_AVAILABLE:
    case RdKafka::ERR_REPLICA_NOT_AVAILABLE:
    case RdKafka::ERR_THROTTLING_QUOTA_EXCEEDED:
    // A producer that failed fatally, and the sends it held: KafkaProducer replaces it, and the
    // next send goes out on the new one.
    case RdKafka::ERR__FATAL:
    case RdKafka::ERR__PURGE_QUEUE:
    case RdKafka::ERR__PURGE_INFLIGHT:
      return true;
    default:
      return false;
  }
}

absl::Status KafkaStatus(RdKafka::ErrorCode code, absl::string_view what) {
  if (code == RdKafka::ERR_NO_ERROR) return absl::OkStatus();
  std::string detail = absl::StrCat(what, ": ", RdKafka::err2str(code));
  if (IsRetryable(code)) {
    if (code == RdKafka::ERR__MSG_TIMED_OUT) {
      absl::StrAppend(&detail, " (the broker did not acknowledge in time; is Kafka reachable?)");
    }
    return absl::UnavailableError(detail);
  }
  switch (code) {
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
      return absl::InvalidArgumentError(
          absl::StrCat(detail, " (raise message.max.bytes on the producer and the topic)"));
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR__UNKNOWN_PARTITION:
      return absl::NotFoundError(
          absl::StrCat(detail, " (create the Signpost topics: tools/kafka topics)"));
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
    case RdKafka::ERR_GROUP_AUTHORIZATION_FAILED:
    case RdKafka::ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RdKafka::ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      return absl::PermissionDeniedError(
          absl::StrCat(detail, " (grant the principal access to the topic or group)"));
    case RdKafka::ERR__AUTHENTICATION:
    case RdKafka::ERR_SASL_AUTHENTICATION_FAILED:
      return absl::UnauthenticatedError(detail);
    case RdKafka::ERR__INVALID_ARG:
    case RdKafka::ERR_INVALID_RECORD:
    case RdKafka::ERR_INVALID_CONFIG:
      return absl::InvalidArgumentError(detail);
    case RdKafka::ERR__DESTROY:
      return absl::CancelledError(detail);
    default:
      return absl::InternalError(detail);
  }
}

}  // namespace signpost::kafka

#include "common/redis/replica_ack.h"

#include "absl/strings/str_cat.h"

namespace signpost::redis {

Command WaitCommand(const ReplicaAck& ack) {
  return {"WAIT", absl::StrCat(ack.replicas), absl::StrCat(absl::ToInt64Milliseconds(ack.timeout))};
}

absl::Status ReplicaAckStatus(const Reply& wait_reply, const ReplicaAck& ack,
                              const std::string& where) {
  if (wait_reply.type == Reply::Type::kError) {
    return absl::UnavailableError(absl::StrCat(where, ": WAIT refused: ", wait_reply.str));
  }
  if (wait_reply.type != Reply::Type::kInteger) {
    return absl::UnavailableError(absl::StrCat(where, ": WAIT gave no count of replicas"));
  }
  if (wait_reply.integer >= ack.replicas) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      where, ": written on the primary but acknowledged by only ", wait_reply.integer, " of ",
      ack.replicas, " replicas within ", absl::ToInt64Milliseconds(ack.timeout), " ms"));
}

}  // namespace signpost::redis

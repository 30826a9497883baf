#include "common/redis/replica_ack.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace signpost::redis {

bool MayWrite(const Command& command) {
  static const absl::flat_hash_set<std::string>* const kReadOnly =
      new absl::flat_hash_set<std::string>{
          "PING",        "ECHO",          "TIME",         "ROLE",
          "INFO",        "DBSIZE",        "GET",          "MGET",
          "STRLEN",      "GETRANGE",      "EXISTS",       "TYPE",
          "TTL",         "PTTL",          "EXPIRETIME",   "HGET",
          "HMGET",       "HGETALL",       "HEXISTS",      "HLEN",
          "HKEYS",       "HVALS",         "HSCAN",        "HSTRLEN",
          "LRANGE",      "LLEN",          "LINDEX",       "SMEMBERS",
          "SISMEMBER",   "SMISMEMBER",    "SCARD",        "SSCAN",
          "ZRANGE",      "ZRANGEBYSCORE", "ZREVRANGE",    "ZREVRANGEBYSCORE",
          "ZRANGEBYLEX", "ZSCORE",        "ZMSCORE",      "ZCARD",
          "ZCOUNT",      "ZRANK",         "ZREVRANK",     "ZSCAN",
          "SCAN",        "XRANGE",        "XREVRANGE",    "XLEN",
          "XINFO",       "XPENDING",      "XREAD",        "GEOPOS",
          "GEODIST",     "GEOSEARCH",     "GEORADIUS_RO", "GEORADIUSBYMEMBER_RO",
          "EVALSHA_RO",  "EVAL_RO",       "FCALL_RO",
      };
  if (command.empty()) return false;
  return !kReadOnly->contains(absl::AsciiStrToUpper(command.front()));
}

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

#!/usr/bin/env bash
# Fault suite, Redis failover (issue 24): Redis as production runs it, a primary, a replica and
# three sentinels (redis-server --sentinel, quorum 2) on loopback, all with a password (the
# sentinels too: requirepass, as deploy/ runs them);
# signpost-intake, -matching and -followup find the primary through the sentinels and acknowledge
# a change only once one replica has it (--redis-min-replicas-acked 1). Under a steady load of
# submissions (gRPC) and case actions (RecordContact on every first-contact task), the primary is
# killed with SIGKILL; Sentinel promotes the replica and the services carry on without a restart
# (the killed server is started again, as a restart policy would, and becomes the new primary's
# replica: with one replica, that is what lets changes be acknowledged again).
# The ledger (tests/faults/redis_failover_clients.py): every acknowledged submission readable
# afterwards and on the received topic once, every acknowledged case action applied exactly once
# (lost 0, duplicated 0), and the time from the kill to the first call started after it that
# succeeded, printed on one line.
# usage: redis_failover_test.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$1
began=$(date +%s)
load_seconds=${SIGNPOST_FAILOVER_LOAD_SECONDS:-40}
rate=${SIGNPOST_FAILOVER_RATE:-10}
kill_after=15  # seconds into the load
source "$root/tests/clients/client_test_env.sh"

"$root/tools/kafka" start --dir "$work/kafka" >"$work/kafka-start.log" 2>&1 || fail "Kafka did not start"
stop_kafka() { "$root/tools/kafka" stop --dir "$work/kafka" >/dev/null 2>&1 || true; }
trap 'echo "wall time $(($(date +%s) - began)) s"; stop_kafka; cleanup' EXIT
bootstrap=$(cat "$work/kafka/bootstrap")

# --- Redis: primary, replica, three sentinels, one password ---------------------------------
(umask 077 && openssl rand -hex 24 >"$work/redis-password")
password=$(cat "$work/redis-password")
export REDISCLI_AUTH="$password"
declare -A redis_pid
start_redis() { # name port [primary port]
  local name=$1 port=$2
  mkdir -p "$work/$name"
  (umask 077 && {
    echo "requirepass $password"
    echo "masterauth $password"
    [ -z "${3:-}" ] || echo "replicaof 127.0.0.1 $3"
    # A primary without a replica refuses writes (NOREPLICAS) rather than apply one it cannot
    # acknowledge: a retried call is then never applied twice.
    echo "min-replicas-to-write 1"
    echo "min-replicas-max-lag 10"
    # A replica (re)joining is sent the data at once, not after the default 5 s that waits for
    # more replicas to share one transfer.
    echo "repl-diskless-sync-delay 0"
  } >"$work/$name/redis.conf")
  # AOF fsynced every second, as deployed: what an acknowledgement promises comes from the
  # replica having the change (WAIT), not from the dead primary's disk.
  redis-server "$work/$name/redis.conf" --port "$port" --bind 127.0.0.1 --dir "$work/$name" \
    --appendonly yes --appendfsync everysec --save "" --logfile "$work/$name.log" &
  redis_pid[$name]=$!
  pids+=($!)
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  fail "redis-server $name did not start"
}
primary_port=$("$root/tools/free-port")
replica_port=$("$root/tools/free-port")
start_redis redis-a "$primary_port"
start_redis redis-b "$replica_port" "$primary_port"
sentinels=""
sentinel_ports=()
for i in 1 2 3; do
  p=$("$root/tools/free-port")
  mkdir -p "$work/sentinel-$i"
  cat >"$work/sentinel-$i/sentinel.conf" <<CONF
port $p
bind 127.0.0.1
dir $work/sentinel-$i
requirepass $password
sentinel monitor signpost 127.0.0.1 $primary_port 2
sentinel auth-pass signpost $password
sentinel down-after-milliseconds signpost 1000
sentinel failover-timeout signpost 3000
CONF
  redis-server "$work/sentinel-$i/sentinel.conf" --sentinel --logfile "$work/sentinel-$i.log" &
  pids+=($!)
  sentinel_ports+=("$p")
  sentinels+="${sentinels:+,}127.0.0.1:$p"
done
# Ready for a failover: the replica in sync, and every sentinel knows it and the two others.
for _ in $(seq 1 300); do
  ready=1
  redis-cli -p "$primary_port" info replication | grep -q "^connected_slaves:1" || ready=0
  for p in "${sentinel_ports[@]}"; do
    line=$(redis-cli -p "$p" sentinel master signpost 2>/dev/null | tr '\n' ' ')
    [[ "$line" =~ num-slaves\ 1\  && "$line" =~ num-other-sentinels\ 2\  ]] || ready=0
  done
  [ $ready -eq 1 ] && break
  sleep 0.1
done
[ $ready -eq 1 ] || fail "the sentinels did not find the replica and each other"
echo "Redis: primary :$primary_port, replica :$replica_port, sentinels $sentinels"

# --- the services, pointed at the sentinels ---------------------------------------------------
"$build/bin/signpost-region" --out "$work/region" --kafka-bootstrap "$bootstrap" \
  >"$work/signpost-region.log" 2>&1 || fail "the region was not loaded"
redis_flags=(--redis-sentinels "$sentinels" --redis-master-name signpost
  --redis-password-file "$work/redis-password" --redis-sentinel-password-file "$work/redis-password"
  --redis-min-replicas-acked 1)
declare -A port
for s in intake matching followup; do port[$s]=$("$root/tools/free-port"); done
for s in matching intake followup; do
  extra=()
  case "$s" in
    matching) extra=(--postcodes "$work/region/postcodes.csv") ;;
    followup) extra=(--directory "127.0.0.1:${port[matching]}") ;;
  esac
  "$build/bin/signpost-$s" --kafka-bootstrap "$bootstrap" "${redis_flags[@]}" \
    --listen "127.0.0.1:${port[$s]}" --port-file "$work/$s.ready" "${extra[@]}" \
    >>"$work/signpost-$s.log" 2>&1 &
  pids+=($!)
  declare "pid_$s=$!"
  for _ in $(seq 1 300); do [ -s "$work/$s.ready" ] && break; sleep 0.1; done
  [ -s "$work/$s.ready" ] || fail "signpost-$s did not start"
done
echo "intake, matching and follow-up up after $(($(date +%s) - began)) s"

# --- load, kill -9 of the primary, ledger ----------------------------------------------------
generate_python
/usr/bin/python3 "$root/tests/faults/redis_failover_clients.py" "$work/gen" "127.0.0.1:${port[intake]}" \
  "127.0.0.1:${port[followup]}" "$bootstrap" "$work/region" "$load_seconds" "$rate" \
  "$work/load-started" "$work/killed-at" >"$work/ledger.txt" 2>&1 &
clients=$!
for _ in $(seq 1 600); do
  [ -s "$work/load-started" ] && break
  kill -0 "$clients" 2>/dev/null || { cat "$work/ledger.txt"; fail "the clients did not start"; }
  sleep 0.1
done
sleep "$kill_after"
date +%s.%N >"$work/killed-at"
kill -9 "${redis_pid[redis-a]}"
echo "kill -9 of the Redis primary (:$primary_port) at +${kill_after}s of the load"
for _ in $(seq 1 300); do
  new=$(redis-cli -p "${sentinel_ports[0]}" sentinel get-master-addr-by-name signpost 2>/dev/null | sed -n 2p)
  [ "$new" = "$replica_port" ] && break
  sleep 0.1
done
[ "$new" = "$replica_port" ] || fail "Sentinel did not promote the replica"
since_kill() { awk -v a="$(cat "$work/killed-at")" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
echo "Sentinel promoted the replica (:$replica_port) $(since_kill) s after the kill"
# With one replica, the new primary has none to acknowledge a change until the old one is back:
# it is restarted (as a restart policy or a StatefulSet would) as the replica of the primary the
# sentinels name, as deploy/kubernetes/redis.yaml's pods start (left to Sentinel, a server that
# comes back as a primary is made a replica only ~10 s later).
start_redis redis-a "$primary_port" "$new"
for _ in $(seq 1 300); do
  redis-cli -p "$replica_port" info replication | grep -q "^connected_slaves:1" && break
  sleep 0.1
done
redis-cli -p "$replica_port" info replication | grep -q "^connected_slaves:1" ||
  fail "the old primary did not come back as the new primary's replica"
echo "the old primary restarted and replicating from the new one $(since_kill) s after the kill"
ok=0
wait "$clients" && ok=1
cat "$work/ledger.txt"
for s in intake matching followup; do
  p="pid_$s"
  kill -0 "${!p}" 2>/dev/null || fail "signpost-$s exited: the services must carry on without a restart"
done
[ $ok -eq 1 ] || fail "the ledger does not balance"
echo "PASS"

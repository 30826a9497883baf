#!/usr/bin/env bash
# tools/run --redis-replica from outside (issue 24): its Redis password stays its owner's and its
# sentinels cannot be steered by anyone who does not have it.
#  - No file under the state folder that holds the password is readable by another user, nor in a
#    folder another user can enter, after the sentinels have rewritten their config files (Sentinel
#    rewrites them with the process's umask, and keeps `sentinel auth-pass` in them).
#  - A sentinel refuses a client without the password (NOAUTH): an unauthenticated one could
#    otherwise point `signpost` at a server of its own (SENTINEL REMOVE / MONITOR), and the
#    services would send it their Redis password and every write.
#  - With the password it names the primary, and the services (which find the primary through the
#    sentinels) answer.
#  - A failover by hand (kill -9 of the primary) still goes through: the replica promoted, the old
#    primary started again by tools/run as its replica, every config file still mode 600.
# usage: run_redis_replica_test.sh KAFKA_DIR BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kafka_dir=$1
build=$2
work=$(mktemp -d /tmp/signpost-run-replica.XXXXXX)
state="$work/state"
fail() { echo "FAIL: $*" >&2; exit 1; }
run_pid=""
stop_run() {
  [ -z "$run_pid" ] && return 0
  kill -TERM "$run_pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
  run_pid=""
}
trap 'stop_run; rm -rf "$work"' EXIT

prefix="runreplica$$."
"$root/tools/kafka" topics --dir "$kafka_dir" --prefix "$prefix" >"$work/topics.log" 2>&1 ||
  { cat "$work/topics.log"; fail "the topics were not made"; }
env -u SIGNPOST_DATA_KEYS -u SIGNPOST_INSECURE -u SIGNPOST_NO_AUTH -u REDISCLI_AUTH \
  SIGNPOST_STATE="$state" SIGNPOST_BUILD_DIR="$build" SIGNPOST_TOPIC_PREFIX="$prefix" \
  "$root/tools/run" --kafka "$(cat "$kafka_dir/bootstrap")" --redis-replica >"$work/run.log" 2>&1 &
run_pid=$!
for _ in $(seq 1 1200); do
  [ -s "$state/endpoints.env" ] && break
  kill -0 "$run_pid" 2>/dev/null || { cat "$work/run.log"; fail "tools/run exited"; }
  sleep 0.1
done
[ -s "$state/endpoints.env" ] || { cat "$work/run.log"; fail "tools/run did not come up in 120 s"; }
password=$(cat "$state/redis/password")
sentinels=$(sed -n 's/^REDIS_SENTINELS=//p' "$state/endpoints.env")
[ -n "$sentinels" ] || fail "no REDIS_SENTINELS in the endpoints file"
first_sentinel=${sentinels%%,*}

# Every sentinel has rewritten its config by now (it does at start, with its own id); wait for it.
for i in 1 2 3; do
  for _ in $(seq 1 100); do
    grep -q "^sentinel myid" "$state/redis-sentinel-$i/sentinel.conf" 2>/dev/null && break
    sleep 0.1
  done
done

# 1. The password is nowhere another user can read it.
exposed=()
while IFS= read -r -d '' file; do
  grep -qF "$password" "$file" 2>/dev/null || continue
  mode=$(stat -c %a "$file")
  (( (8#$mode & 8#077) == 0 )) || { exposed+=("$file (mode $mode)"); continue; }
  # ...nor in a folder another user can pass through on the way to it.
  dir=$(dirname "$file")
  while [ "$dir" != "$work" ] && [ "$dir" != / ]; do
    dmode=$(stat -c %a "$dir")
    if (( (8#$dmode & 8#011) != 0 )); then
      # An open folder is fine only when a private one lies between it and the file.
      sub=$(dirname "$file")
      private=0
      while [ "$sub" != "$dir" ]; do
        (( (8#$(stat -c %a "$sub") & 8#011) == 0 )) && private=1
        sub=$(dirname "$sub")
      done
      [ $private -eq 1 ] || exposed+=("$file (in $dir, mode $dmode)")
      break
    fi
    dir=$(dirname "$dir")
  done
done < <(find "$state" -type f -print0)
[ ${#exposed[@]} -eq 0 ] || fail "the Redis password is readable by other users in: ${exposed[*]}"

# 2. A sentinel without the password refuses, and changes nothing.
answer=$(redis-cli -h "${first_sentinel%:*}" -p "${first_sentinel##*:}" \
  sentinel get-master-addr-by-name signpost 2>&1 || true)
case "$answer" in
  *NOAUTH*) ;;
  *) fail "a sentinel answered a client without the password: $answer" ;;
esac

# 3. With the password it names the primary, and the services found it through the sentinels.
primary=$(REDISCLI_AUTH="$password" redis-cli -h "${first_sentinel%:*}" -p "${first_sentinel##*:}" \
  sentinel get-master-addr-by-name signpost 2>/dev/null | sed -n 2p)
[ "$primary" = "$(sed -n 's/^REDIS_ADDR=.*://p' "$state/endpoints.env")" ] ||
  fail "the sentinels name port '$primary' as the primary, not tools/run's primary"
intake_metrics=$(sed -n 's/^INTAKE_METRICS_URL=//p' "$state/endpoints.env")
ca=$(sed -n 's/^TLS_CA=//p' "$state/endpoints.env")
curl -fsS ${ca:+--cacert "$ca"} "${intake_metrics%/metrics}/readyz" >/dev/null ||
  fail "signpost-intake is not ready with the sentinels requiring a password"

# 4. A failover by hand still works with the sentinels requiring the password: kill -9 of the
# primary, the sentinels promote the replica, and tools/run (asking them, with the password) starts
# the old primary again as the new one's replica.
replica=$(sed -n 's/^REDIS_REPLICA_ADDR=.*://p' "$state/endpoints.env")
primary_pid=$(sed -n 's/.*kill -9 \([0-9][0-9]*\) (the primary).*/\1/p' "$work/run.log")
[ -n "$primary_pid" ] || { cat "$work/run.log"; fail "tools/run did not say the primary's pid"; }
kill -9 "$primary_pid"
for _ in $(seq 1 600); do
  now=$(REDISCLI_AUTH="$password" redis-cli -h "${first_sentinel%:*}" -p "${first_sentinel##*:}" \
    sentinel get-master-addr-by-name signpost 2>/dev/null | sed -n 2p)
  [ "$now" = "$replica" ] && break
  sleep 0.1
done
[ "$now" = "$replica" ] || fail "the sentinels did not promote the replica (:$replica)"
for _ in $(seq 1 600); do
  grep -q "starting it again as the replica of port $replica" "$work/run.log" &&
    REDISCLI_AUTH="$password" redis-cli -p "$replica" info replication | grep -q "^connected_slaves:1" &&
    break
  sleep 0.1
done
grep -q "starting it again as the replica of port $replica" "$work/run.log" ||
  { cat "$work/run.log"; fail "tools/run did not start the killed primary again"; }
REDISCLI_AUTH="$password" redis-cli -p "$replica" info replication | grep -q "^connected_slaves:1" ||
  fail "the old primary did not come back as the new primary's replica"
# Sentinel's rewrites during the failover kept the files private too.
for f in "$state"/redis*/*.conf; do
  [ "$(stat -c %a "$f")" = 600 ] || fail "$f is mode $(stat -c %a "$f") after the failover"
done

stop_run
echo "PASS"

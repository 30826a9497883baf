#!/usr/bin/env bash
# Fault suite: under a steady load of referrals, each service in turn is killed with SIGKILL
# mid-batch and restarted a few seconds later on the same address; redis-server is killed and
# restarted from its AOF; poison records go onto every input topic; matching is frozen (SIGSTOP)
# for 15 s, longer than its group session, so a backlog builds and it must catch up. The ledger
# (tests/faults/fault_clients.py) must show nothing acknowledged lost and nothing twice to a link
# worker or a GP, and every poison record must be set aside with its reason.
# usage: service_kill_test.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$1
source "$root/tests/clients/client_test_env.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$root/tools/kafka" start --dir "$work/kafka" >"$work/kafka-start.log" 2>&1 || fail "Kafka did not start"
stop_kafka() { "$root/tools/kafka" stop --dir "$work/kafka" >/dev/null 2>&1 || true; }
trap 'stop_kafka; cleanup' EXIT
bootstrap=$(cat "$work/kafka/bootstrap")

redis_port=$(free_port)
mkdir -p "$work/redis"
start_redis_aof() {
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes \
    --appendfsync always --save "" >"$work/redis.log" 2>&1 &
  redis_pid=$!
  pids+=($redis_pid)
  for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  fail "redis-server did not start"
}
start_redis_aof
redis_addr="127.0.0.1:$redis_port"

"$build/bin/signpost-region" --out "$work/region" --kafka-bootstrap "$bootstrap" \
  >"$work/signpost-region.log" 2>&1 || fail "the region was not loaded"

declare -A port pid
for s in intake matching followup; do port[$s]=$(free_port); done
start() { # name: on its fixed port, so clients reconnect to the same address
  local s=$1 extra=()
  case "$s" in
    matching) extra=(--postcodes "$work/region/postcodes.csv") ;;
    followup) extra=(--directory "127.0.0.1:${port[matching]}") ;;
  esac
  rm -f "$work/$s.ready"
  "$build/bin/signpost-$s" --kafka-bootstrap "$bootstrap" --redis "$redis_addr" \
    --listen "127.0.0.1:${port[$s]}" --port-file "$work/$s.ready" "${extra[@]}" \
    >>"$work/signpost-$s.log" 2>&1 &
  pid[$s]=$!
  pids+=(${pid[$s]})
  for _ in $(seq 1 300); do [ -s "$work/$s.ready" ] && return 0; sleep 0.1; done
  fail "signpost-$s did not start"
}
for s in intake matching followup; do start "$s"; done

generate_python
/usr/bin/python3 "$root/tests/faults/fault_clients.py" "$work/gen" "127.0.0.1:${port[intake]}" \
  "127.0.0.1:${port[followup]}" "$bootstrap" "$work/region" 60 20 >"$work/ledger.txt" 2>&1 &
clients=$!

sleep 8
for s in intake matching followup; do
  echo "kill -9 signpost-$s"
  kill -9 "${pid[$s]}"
  sleep 3
  start "$s"
  sleep 8
done
echo "kill -9 redis-server"
kill -9 "$redis_pid"
sleep 3
start_redis_aof
sleep 4
echo "poison on every input topic"
poisoned=(signpost.referral.submitted signpost.referral.received signpost.referral.matched
          signpost.followup.events signpost.referral.rejected)
for topic in "${poisoned[@]}"; do
  printf '\x08\x96\x01 not an event' | kcat -P -b "$bootstrap" -t "$topic" -k "poison-$topic" \
    -H content-type=application/x-protobuf
done
sleep 4
echo "matching frozen for 15 s (a slow consumer), then thawed"
kill -STOP "${pid[matching]}"
sleep 15
kill -CONT "${pid[matching]}"
wait "$clients" && ok=1 || ok=0
cat "$work/ledger.txt"
[ $ok -eq 1 ] || fail "the ledger does not balance"

# Every poison record set aside with its reason: on the dead-letter topic for each group that
# reads the topic, or (for submissions) on the rejected topic, which is where GP systems look.
kcat -C -b "$bootstrap" -t signpost.deadletter -o beginning -e -q -f '%k|%h\n' >"$work/dead.txt"
for topic in signpost.referral.received signpost.referral.matched signpost.followup.events \
  signpost.referral.rejected; do
  grep -q "^poison-$topic|.*dlq-source-topic=$topic" "$work/dead.txt" ||
    { cat "$work/dead.txt"; fail "the poison record on $topic is not on the dead-letter topic"; }
done
grep -q "^poison-" "$work/dead.txt" && grep "^poison-" "$work/dead.txt" | grep -v "dlq-reason=" &&
  fail "a dead letter has no reason"
kcat -C -b "$bootstrap" -t signpost.referral.rejected -o beginning -e -q -f '%k\n' |
  grep -q "poison-signpost.referral.submitted" ||
  fail "the unreadable submission is not on the rejected topic"
echo "dead letters: $(grep -c '^poison-' "$work/dead.txt") poison records set aside, each with its reason"
echo "PASS"

# Sourced by the fault scenarios: a local Kafka of $nodes nodes (default 1), redis-server with
# AOF fsynced on every write, the synthetic region, and signpost-intake, -matching and -followup
# on fixed ports (start NAME restarts one on the same address); with instances=2 a second process
# of each too (intake-b, matching-b, followup-b: the same consumer groups, Redis and Kafka). Then
# start_clients SECONDS RATE runs tests/faults/fault_clients.py in the background (pid in
# $clients, ledger in $work/ledger.txt). Needs: $root, $build.
nodes=${nodes:-1}
instances=${instances:-1}
source "$root/tests/clients/client_test_env.sh"

"$root/tools/kafka" start --nodes "$nodes" --dir "$work/kafka" >"$work/kafka-start.log" 2>&1 || fail "Kafka did not start"
stop_kafka() { "$root/tools/kafka" stop --dir "$work/kafka" >/dev/null 2>&1 || true; }
trap 'stop_kafka; cleanup' EXIT
bootstrap=$(cat "$work/kafka/bootstrap")

redis_port=$("$root/tools/free-port")
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
names=(intake matching followup)
[ "$instances" -eq 2 ] && names+=(intake-b matching-b followup-b)
for s in "${names[@]}"; do port[$s]=$("$root/tools/free-port"); done
start() { # name: on its fixed port, so clients reconnect to the same address
  local s=$1 extra=()
  case "$s" in
    matching*) extra=(--postcodes "$work/region/postcodes.csv") ;;
    followup*) extra=(--directory "127.0.0.1:${port[matching${s#followup}]}") ;;
  esac
  rm -f "$work/$s.ready"
  "$build/bin/signpost-${s%-b}" --kafka-bootstrap "$bootstrap" --redis "$redis_addr" \
    --listen "127.0.0.1:${port[$s]}" --port-file "$work/$s.ready" "${extra[@]}" \
    >>"$work/signpost-$s.log" 2>&1 &
  pid[$s]=$!
  pids+=(${pid[$s]})
  for _ in $(seq 1 300); do [ -s "$work/$s.ready" ] && return 0; sleep 0.1; done
  fail "signpost-$s did not start"
}
for s in "${names[@]}"; do start "$s"; done


start_clients() { # load seconds, referrals per second
  generate_python
  /usr/bin/python3 "$root/tests/faults/fault_clients.py" "$work/gen" "127.0.0.1:${port[intake]}" \
    "127.0.0.1:${port[followup]}" "$bootstrap" "$work/region" "$1" "$2" >"$work/ledger.txt" 2>&1 &
  clients=$!
}

# Waits for the clients and fails unless their ledger balances.
check_ledger() {
  local ok=0
  wait "$clients" && ok=1
  cat "$work/ledger.txt"
  if [ $ok -ne 1 ]; then
    # Where the backlog stands, per group and partition, and what the consumers last retried:
    # enough to tell a slow drain from a partition that stopped.
    echo "== consumer groups"
    "$root/tools/kafka" cli kafka-consumer-groups --bootstrap-server "$bootstrap" --describe \
      --all-groups 2>/dev/null | grep -v "^$" || true
    for log in "$work"/signpost-*.log; do
      echo "== retries and errors in $(basename "$log")"
      grep -E "retrying|rewinding|error|Error" "$log" | tail -15 || true
    done
    fail "the ledger does not balance"
  fi
}

#!/usr/bin/env bash
# A link-worker app in Python against a real signpost-followup (the test run's Kafka, its own
# redis-server); the matched event is produced with kcat.
set -euo pipefail
kafka_dir=$1
build=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/clients/client_test_env.sh"

generate_python
start_redis
prefix="pylw-$$-$RANDOM."
"$root/tools/kafka" topics --dir "$kafka_dir" --prefix "$prefix" >"$work/topics.log" 2>&1 ||
  { cat "$work/topics.log"; fail "creating the topics"; }
start_service signpost-followup --kafka-bootstrap "$(cat "$kafka_dir/bootstrap")" \
  --topic-prefix "$prefix" --redis "$redis_addr" --time-zone UTC
/usr/bin/python3 "$root/tests/clients/python_link_worker_app.py" "$work/gen" "$service_addr" \
  "$(cat "$kafka_dir/bootstrap")" "$prefix" || fail "the Python link-worker app"

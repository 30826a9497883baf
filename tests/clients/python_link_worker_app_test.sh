#!/usr/bin/env bash
# A link-worker app in Python against a real signpost-followup (the test run's Kafka, its own
# redis-server); the matched event is produced with kcat.
set -euo pipefail
kafka_dir=$1
build=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
cleanup() {
  [ -n "${followup_pid:-}" ] && kill "$followup_pid" 2>/dev/null && wait "$followup_pid" 2>/dev/null
  [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/gen"
protoc --proto_path="$root/proto" --python_out="$work/gen" --grpc_python_out="$work/gen" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  $(cd "$root/proto" && find . -name '*.proto' | sed 's|^\./||')

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null &
redis_pid=$!
prefix="pylw-$$-$RANDOM."
"$root/tools/kafka" topics --dir "$kafka_dir" --prefix "$prefix" >"$work/topics.log" 2>&1 ||
  { cat "$work/topics.log"; echo "FAIL: topics"; exit 1; }
"$build/bin/signpost-followup" --kafka-bootstrap "$(cat "$kafka_dir/bootstrap")" \
  --topic-prefix "$prefix" --redis "127.0.0.1:$port" --listen 127.0.0.1:0 \
  --port-file "$work/port" --time-zone UTC >"$work/followup.log" 2>&1 &
followup_pid=$!
for _ in $(seq 1 300); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/followup.log"; echo "FAIL: followup did not start"; exit 1; }

/usr/bin/python3 "$root/tests/clients/python_link_worker_app.py" "$work/gen" \
  "127.0.0.1:$(cat "$work/port")" "$(cat "$kafka_dir/bootstrap")" "$prefix" ||
  { cat "$work/followup.log"; exit 1; }

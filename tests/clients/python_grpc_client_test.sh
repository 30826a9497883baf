#!/usr/bin/env bash
# An outside client in another language: Python code generated from proto/ with Debian's protoc
# and grpc_python_plugin talks to a real signpost-intake (with the test run's Kafka and its own
# redis-server).
set -euo pipefail
kafka_dir=$1
build=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
cleanup() {
  [ -n "${intake_pid:-}" ] && kill "$intake_pid" 2>/dev/null && wait "$intake_pid" 2>/dev/null
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
prefix="py-$$-$RANDOM."
"$build/bin/signpost-intake" --kafka-bootstrap "$(cat "$kafka_dir/bootstrap")" \
  --topic-prefix "$prefix" --create-topics --redis "127.0.0.1:$port" --listen 127.0.0.1:0 \
  --port-file "$work/port" >"$work/intake.log" 2>&1 &
intake_pid=$!
for _ in $(seq 1 300); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/intake.log"; echo "FAIL: intake did not start"; exit 1; }

/usr/bin/python3 "$root/tests/clients/python_grpc_client.py" "$work/gen" "127.0.0.1:$(cat "$work/port")" ||
  { cat "$work/intake.log"; exit 1; }

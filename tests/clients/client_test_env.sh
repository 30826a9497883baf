# Sourced by the outside-client tests: a work folder, Python code generated from proto/, a
# redis-server of the test's own, and one of our services started on a free port. Everything
# started is stopped on exit.
# Needs: $root (the repository), $build (the build folder).
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]+"${pids[@]}"}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  # KEEP_TEST_WORK=1 keeps the logs and data of a run to look into.
  if [ -n "${KEEP_TEST_WORK:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
# Intake and follow-up seal and open personal details with the tests' keyring.
export SIGNPOST_DATA_KEYS=${SIGNPOST_DATA_KEYS:-$root/tests/support/data/test-data-keys}
# The services these tests start listen in plaintext and let calls through without tokens (the
# e2e test runs tools/run, with TLS and bearer tokens).
export SIGNPOST_INSECURE=true
export SIGNPOST_NO_AUTH=true

# Python modules for every .proto under proto/, with Debian's protoc and grpc_python_plugin.
generate_python() {
  mkdir -p "$work/gen"
  protoc --proto_path="$root/proto" --python_out="$work/gen" --grpc_python_out="$work/gen" \
    --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
    $(cd "$root/proto" && find . -name '*.proto' | sed 's|^\./||')
}

# Sets redis_addr.
start_redis() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null &
  pids+=($!)
  redis_addr="127.0.0.1:$port"
}

# start_service NAME FLAGS...: build/bin/NAME on free ports; sets service_addr (gRPC) and
# service_http (its metrics/HTTP port); log in $work/NAME.log (printed by fail).
start_service() {
  local name=$1
  shift
  "$build/bin/$name" --listen 127.0.0.1:0 --port-file "$work/$name.port" \
    --metrics-listen 127.0.0.1:0 --metrics-port-file "$work/$name.http-port" "$@" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    [ -s "$work/$name.port" ] && [ -s "$work/$name.http-port" ] && break
    sleep 0.1
  done
  [ -s "$work/$name.port" ] || fail "$name did not start"
  service_addr="127.0.0.1:$(cat "$work/$name.port")"
  service_http="http://127.0.0.1:$(cat "$work/$name.http-port")"
}

fail() {
  for log in "$work"/*.log; do
    [ -f "$log" ] && { echo "== $log"; tail -30 "$log"; }
  done
  echo "FAIL: $*"
  exit 1
}

# Sourced by the outside-client tests: a work folder, Python code generated from proto/, a
# redis-server of the test's own, and one of our services started on a free port. Everything
# started is stopped on exit.
# Needs: $root (the repository), $build (the build folder).
work=$(mktemp -d)
service_pid=""
redis_pid=""
cleanup() {
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

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
  redis_pid=$!
  redis_addr="127.0.0.1:$port"
}

# start_service NAME FLAGS...: build/bin/NAME on a free port; sets service_addr; log in
# $work/service.log (printed by fail).
start_service() {
  local name=$1
  shift
  "$build/bin/$name" --listen 127.0.0.1:0 --port-file "$work/port" "$@" >"$work/service.log" 2>&1 &
  service_pid=$!
  for _ in $(seq 1 300); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || fail "$name did not start"
  service_addr="127.0.0.1:$(cat "$work/port")"
}

fail() {
  [ -f "$work/service.log" ] && cat "$work/service.log"
  echo "FAIL: $*"
  exit 1
}

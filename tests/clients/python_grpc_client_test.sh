#!/usr/bin/env bash
# An outside client in another language: Python code generated from proto/ with Debian's protoc
# and grpc_python_plugin talks to a real signpost-intake (with the test run's Kafka and its own
# redis-server).
set -euo pipefail
kafka_dir=$1
build=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/clients/client_test_env.sh"

generate_python
start_redis
start_service signpost-intake --kafka-bootstrap "$(cat "$kafka_dir/bootstrap")" \
  --topic-prefix "py-$$-$RANDOM." --create-topics --redis "$redis_addr"
/usr/bin/python3 "$root/tests/clients/python_grpc_client.py" "$work/gen" "$service_addr" ||
  fail "the Python GP system"

#!/usr/bin/env bash
# A referral from a practice no network lists, through real signpost-intake, -matching,
# -followup and -monitor (the test run's Kafka, a redis-server of its own), with bearer tokens
# signed by the tests' key, as Python gRPC, kcat and HTTP clients see it
# (unrouted_referral_client.py says what is checked).
set -euo pipefail
kafka_dir=$1
build=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/clients/client_test_env.sh"
# Callers are who their tokens say (client_test_env.sh lets everything through).
unset SIGNPOST_NO_AUTH
export SIGNPOST_TOKEN_KEYS=$root/tests/support/data/test-token-keys.pem

generate_python
start_redis
bootstrap=$(cat "$kafka_dir/bootstrap")
prefix="unrouted-$$-$RANDOM."
"$root/tools/kafka" topics --dir "$kafka_dir" --prefix "$prefix" >"$work/topics.log" 2>&1 ||
  { cat "$work/topics.log"; fail "creating the topics"; }
common=(--kafka-bootstrap "$bootstrap" --topic-prefix "$prefix" --redis "$redis_addr")
start_service signpost-intake "${common[@]}"
intake_addr=$service_addr
start_service signpost-matching "${common[@]}" \
  --postcodes "$root/tests/services/matching/data/postcodes.csv" --imd-edition IoD2019
matching_addr=$service_addr
start_service signpost-followup "${common[@]}" --time-zone UTC
followup_addr=$service_addr
start_service signpost-monitor --kafka-bootstrap "$bootstrap" --topic-prefix "$prefix" \
  --lag-interval-ms 200
/usr/bin/python3 "$root/tests/clients/unrouted_referral_client.py" "$work/gen" "$intake_addr" \
  "$matching_addr" "$followup_addr" "$service_http" "$bootstrap" "$prefix" \
  "$build/bin/signpostctl" "$root/tests/support/data/test-token-signing.pem" ||
  fail "the unrouted referral"

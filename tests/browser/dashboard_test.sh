#!/usr/bin/env bash
# The dashboard in a real browser: signpost-intake and signpost-monitor on the test run's Kafka,
# Debian's Chromium driven by playwright-core. Leaves a screenshot in BUILD/test-artifacts/.
set -euo pipefail
kafka_dir=$1
build=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/clients/client_test_env.sh"

[ -d "$root/tests/browser/node_modules/playwright-core" ] || fail "run tools/install-deps first"
generate_python
start_redis
prefix="browser-$$-$RANDOM."
bootstrap=$(cat "$kafka_dir/bootstrap")
start_service signpost-intake --kafka-bootstrap "$bootstrap" --topic-prefix "$prefix" \
  --create-topics --redis "$redis_addr"
intake_addr=$service_addr
start_service signpost-monitor --kafka-bootstrap "$bootstrap" --topic-prefix "$prefix" \
  --lag-interval-ms 500 --suppress-below 0
dashboard="$service_http/"
mkdir -p "$build/test-artifacts"
node "$root/tests/browser/dashboard_test.mjs" "$dashboard" "$build/test-artifacts/dashboard.png" \
  /usr/bin/python3 "$root/tests/browser/submit_referrals.py" "$work/gen" "$intake_addr" 6 ||
  fail "the dashboard"

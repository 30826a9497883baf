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
# The monitor asks for an ops token, as tools/run starts it; the page is opened with one.
keys="$root/tests/support/data/test-token-keys.pem"
SIGNPOST_NO_AUTH=false start_service signpost-monitor --kafka-bootstrap "$bootstrap" \
  --topic-prefix "$prefix" --lag-interval-ms 500 --suppress-below 0 --token-keys "$keys"
token=$("$build/bin/signpostctl" --token-signing-key "$root/tests/support/data/test-token-signing.pem" \
  token --role ops --sub browser-test --ttl-minutes 30)
dashboard="$service_http/#token=$token"
# Without the token the figures are refused, with what to do.
code=$(python3 -c "import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1] + 'api/flows'); print(200)
except urllib.error.HTTPError as e:
    print(e.code)" "$service_http/")
[ "$code" = 401 ] || fail "the monitor's API answered $code without a token"
# A referral from a practice no network lists, as matching leaves it: the page must warn of it.
/usr/bin/python3 "$root/tests/browser/publish_unrouted_match.py" "$work/gen" "$bootstrap" "$prefix" ||
  fail "publishing an unrouted match"
mkdir -p "$build/test-artifacts"
node "$root/tests/browser/dashboard_test.mjs" "$dashboard" "$build/test-artifacts/dashboard.png" \
  /usr/bin/python3 "$root/tests/browser/submit_referrals.py" "$work/gen" "$intake_addr" 6 ||
  fail "the dashboard"

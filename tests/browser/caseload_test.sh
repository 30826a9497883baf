#!/usr/bin/env bash
# The link-worker app (follow-up's /app/) in a real browser, as a link worker uses it: real
# signpost-intake, -matching and -followup over TLS with bearer tokens (the test run's Kafka, a
# redis-server of its own), Debian's Chromium driven by playwright-core, axe-core for
# accessibility. caseload_test.mjs says what is checked; caseload_fixture.py plays the GP system,
# the directory's admin and another link worker. Leaves screenshots and the accessibility report
# in BUILD/test-artifacts/.
# usage: caseload_test.sh KAFKA_DIR BUILD_DIR   (KAFKA_DIR: a running tools/kafka, e.g. /tmp/devkafka)
set -euo pipefail
kafka_dir=$1
build=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/clients/client_test_env.sh"
[ -d "$root/tests/browser/node_modules/playwright-core" ] &&
  [ -d "$root/tests/browser/node_modules/axe-core" ] || fail "run tools/install-deps first"

# As deployed: TLS on every listener, callers who their tokens say.
unset SIGNPOST_INSECURE SIGNPOST_NO_AUTH
export SIGNPOST_TOKEN_KEYS=$root/tests/support/data/test-token-keys.pem
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1 || fail "making a certificate"
# Every service presents it, and follow-up trusts it calling the directory (ReservePlace).
export SIGNPOST_TLS_CERT=$work/tls.crt SIGNPOST_TLS_KEY=$work/tls.key SIGNPOST_TLS_CA=$work/tls.crt

generate_python
start_redis
bootstrap=$(cat "$kafka_dir/bootstrap")
prefix="caseload-$$-$RANDOM."
"$root/tools/kafka" topics --dir "$kafka_dir" --prefix "$prefix" >"$work/topics.log" 2>&1 ||
  { cat "$work/topics.log"; fail "creating the topics"; }
common=(--kafka-bootstrap "$bootstrap" --topic-prefix "$prefix" --redis "$redis_addr")
start_service signpost-intake "${common[@]}"
intake_addr=$service_addr
start_service signpost-matching "${common[@]}" \
  --postcodes "$root/tests/services/matching/data/postcodes.csv" --imd-edition IoD2019
matching_addr=$service_addr
# Streams end after 5 s here (600 s by default), so the test sees the app resume them.
start_service signpost-followup "${common[@]}" --time-zone UTC --directory "$matching_addr" \
  --app-stream-max-seconds 5
followup_addr=$service_addr
app="${service_http/http:/https:}/app/"

ctl=$build/bin/signpostctl
signing_key=$root/tests/support/data/test-token-signing.pem
token() { "$ctl" --token-signing-key "$signing_key" token "$@" --ttl-minutes 60; }
export CASELOAD_GEN=$work/gen CASELOAD_CA=$work/tls.crt CASELOAD_INTAKE=$intake_addr \
  CASELOAD_MATCHING=$matching_addr CASELOAD_FOLLOWUP=$followup_addr CASELOAD_BOOTSTRAP=$bootstrap \
  CASELOAD_PREFIX=$prefix CASELOAD_CTL=$ctl CASELOAD_SIGNING_KEY=$signing_key
fixture=(/usr/bin/python3 "$root/tests/browser/caseload_fixture.py")

# The pages over real TLS (the browser below is told to accept the test's certificate), with the
# headers that keep them from being framed, cached or sniffed; the API refuses a call without a
# token in JSON.
curl -sS --cacert "$work/tls.crt" --max-time 30 -D "$work/page.headers" -o "$work/page.html" "$app" ||
  fail "GET $app over TLS"
grep -q "^HTTP/1.1 200" "$work/page.headers" || fail "GET /app/: $(head -1 "$work/page.headers")"
for header in "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'" \
  "Cache-Control: no-store" "X-Content-Type-Options: nosniff" "Referrer-Policy: no-referrer"; do
  grep -qiF "$header" "$work/page.headers" || fail "GET /app/ lacks '$header': $(cat "$work/page.headers")"
done
grep -q '<script type="module" src="app.js">' "$work/page.html" || fail "/app/ is not the app's page"
code=$(curl -sS --cacert "$work/tls.crt" --max-time 30 -o "$work/me.json" -w '%{http_code}' "${app}api/me")
[ "$code" = 401 ] || fail "GET /app/api/me without a token answered $code"
/usr/bin/python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); assert b["code"]=="UNAUTHENTICATED", b' \
  "$work/me.json" || fail "GET /app/api/me without a token: $(cat "$work/me.json")"
# /app is sent to /app/ (where the pages' relative addresses work); the pages are ES modules,
# which the browser runs only when served as JavaScript.
curl -sS --cacert "$work/tls.crt" --max-time 30 -D "$work/redirect.headers" -o /dev/null "${app%/}"
grep -q "^HTTP/1.1 301" "$work/redirect.headers" && grep -qi "^Location: /app/" "$work/redirect.headers" ||
  fail "GET /app is not sent to /app/: $(cat "$work/redirect.headers")"
type=$(curl -sS --cacert "$work/tls.crt" --max-time 30 -o /dev/null -w '%{content_type}' "${app}app.js")
[[ "$type" == text/javascript* ]] || fail "/app/app.js is served as '$type'"

"${fixture[@]}" seed >"$work/seed.json" || fail "seeding the directory"
# lw-b's referral, from the other network: never on lw-a's queue, never opened by lw-a.
other=$("${fixture[@]}" submit b) || fail "submitting pcn-b's referral"
# A referral of a network without link workers: on its coordinator's team queue.
team=$("${fixture[@]}" submit c) || fail "submitting pcn-c's referral"

# A stream resuming from an id follow-up never gave is refused 400 (the page then starts afresh).
code=$(curl -sS --cacert "$work/tls.crt" --max-time 30 -o "$work/stream.json" -w '%{http_code}' \
  -H "Authorization: Bearer $(token --role link_worker --sub lw-a --network pcn-a)" \
  -H "Last-Event-ID: 99999999999999-0" "${app}api/tasks/stream")
[ "$code" = 400 ] || fail "a stream resuming from an unknown id answered $code: $(cat "$work/stream.json")"

cat >"$work/config.json" <<EOF
{
  "app": "$app",
  "tokens": {
    "lwA": "$(token --role link_worker --sub lw-a --network pcn-a)",
    "coordinatorC": "$(token --role coordinator --sub coordinator-pcn-c --network pcn-c)"
  },
  "otherWorkersReferral": "$other",
  "teamReferral": "$team",
  "fixture": ["/usr/bin/python3", "$root/tests/browser/caseload_fixture.py"],
  "axe": "$root/tests/browser/node_modules/axe-core/axe.min.js",
  "artifacts": "$build/test-artifacts"
}
EOF
mkdir -p "$build/test-artifacts"
node "$root/tests/browser/caseload_test.mjs" "$work/config.json" || fail "the link-worker app"

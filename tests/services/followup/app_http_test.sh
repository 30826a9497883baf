#!/usr/bin/env bash
# The link-worker app's API (follow-up's /app/api/*) as an attacker would call it over HTTP: the
# real signpost-followup with bearer tokens (the test run's Kafka, a redis-server of its own).
# Tokens of every role and none, junk and doubled Authorization headers, another worker's queue,
# case ids with path tricks, bodies the parser refuses; each answer a JSON 4xx naming its field
# where there is one, and every answer under /app (pages, errors, 404s, the redirect, the stream)
# with no-store, nosniff and the Content-Security-Policy.
# usage: app_http_test.sh KAFKA_DIR BUILD_DIR   (KAFKA_DIR: a running tools/kafka, e.g. /tmp/devkafka)
set -euo pipefail
kafka_dir=$1
build=$2
root=$(cd "$(dirname "$0")/../../.." && pwd)
source "$root/tests/clients/client_test_env.sh"
# Callers who their tokens say (plaintext here: TLS is caseload_test.sh's).
unset SIGNPOST_NO_AUTH
export SIGNPOST_TOKEN_KEYS=$root/tests/support/data/test-token-keys.pem
start_redis
bootstrap=$(cat "$kafka_dir/bootstrap")
prefix="app-http-$$-$RANDOM."
"$root/tools/kafka" topics --dir "$kafka_dir" --prefix "$prefix" >"$work/topics.log" 2>&1 ||
  { cat "$work/topics.log"; fail "creating the topics"; }
# No directory is called here (no connection is recorded).
start_service signpost-followup --kafka-bootstrap "$bootstrap" --topic-prefix "$prefix" \
  --redis "$redis_addr" --time-zone UTC --directory 127.0.0.1:1 --app-stream-max-seconds 5 \
  --app-max-streams 1

signing_key=$root/tests/support/data/test-token-signing.pem
token() { "$build/bin/signpostctl" --token-signing-key "$signing_key" token "$@" --ttl-minutes 60; }
lw=$(token --role link_worker --sub lw-a --network pcn-a)

# call METHOD PATH [curl args]: sets $status; the body in $work/body, headers in $work/headers.
call() {
  local method=$1 path=$2
  shift 2
  status=$(curl -sS --max-time 30 -X "$method" -o "$work/body" -D "$work/headers" \
    -w '%{http_code}' "$@" "$service_http$path") || fail "$method $path: curl failed"
}
# expect STATUS WHAT: the answer's status, and a JSON error body with the headers of every answer.
expect() {
  [ "$status" = "$1" ] || fail "$2: answered $status, not $1: $(head -c 400 "$work/body")"
  python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); assert "code" in b and "violations" in b' \
    "$work/body" 2>/dev/null || fail "$2: not a JSON error: $(head -c 400 "$work/body")"
  expect_headers "$2"
}
expect_headers() {
  for header in "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'" \
    "Cache-Control: no-store" "X-Content-Type-Options: nosniff"; do
    grep -qiF "$header" "$work/headers" || fail "$1: lacks '$header': $(cat "$work/headers")"
  done
}
# httplib's own answers (no body): the listener's policy for them, default-src 'none'.
expect_bodyless_headers() {
  for header in "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'" \
    "Cache-Control: no-store" "X-Content-Type-Options: nosniff"; do
    grep -qiF "$header" "$work/headers" || fail "$1: lacks '$header': $(cat "$work/headers")"
  done
}
# expect_field FIELD WHAT: the first violation names FIELD.
expect_field() {
  local field
  field=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["violations"][0]["field"])' \
    "$work/body" 2>/dev/null) || fail "$2: no violation: $(head -c 400 "$work/body")"
  [ "$field" = "$1" ] || fail "$2: the violation names '$field', not '$1'"
}

# --- who may call -------------------------------------------------------------------------------
for who in "referrer --ods A81001" "ops --sub x" "directory_admin --sub x"; do
  # shellcheck disable=SC2086  # the role and its flags
  other=$(token --role $who) || fail "a token for $who"
  call GET /app/api/tasks -H "Authorization: Bearer $other"
  expect 403 "GET /app/api/tasks as $who"
done
call GET /app/api/tasks -H "Authorization: Bearer $lw"
[ "$status" = 200 ] || fail "GET /app/api/tasks as a link worker: $status $(cat "$work/body")"
expect_headers "GET /app/api/tasks"
call GET /app/api/me
expect 401 "no token"
call GET /app/api/me -H "Authorization: Bearer junk"
expect 401 "a junk token"
call GET /app/api/me -H "Authorization: Bearer"
expect 401 "Bearer and no token"
call GET /app/api/me -H "Authorization: Basic $(printf 'lw-a:x' | base64)"
expect 401 "Basic authentication"
call GET /app/api/me -H "Authorization: Bearer $(token --role link_worker --sub lw-a --network pcn-a --audience someone-else)"
expect 401 "a token for another audience"
# Two Authorization headers: which one a proxy and the service would each take is anyone's guess.
call GET /app/api/me -H "Authorization: Bearer $lw" -H "Authorization: Bearer junk"
expect 400 "two Authorization headers"
expect_field authorization "two Authorization headers"
call GET '/app/api/tasks?queue=lw-b' -H "Authorization: Bearer $lw"
expect 403 "a link worker naming another queue with ?queue="

# --- case ids with path tricks: never another case, never a 500 -------------------------------
for path in '/app/api/cases/..' '/app/api/cases/%2e%2e' '/app/api/cases/a%2Fb' \
  '/app/api/cases/%2e%2e%2fother' "/app/api/cases/$(printf 'a%.0s' {1..129})" \
  '/app/api/cases/%C3%A9' '/app/api/cases/r%00' '/app/api/cases/nobodys-case'; do
  call GET "$path" -H "Authorization: Bearer $lw"
  expect 404 "GET $path"
done

# --- bodies the parser refuses: 400 naming the field --------------------------------------------
auth=(-H "Authorization: Bearer $lw" -H "Content-Type: application/json")
call POST /app/api/task-done "${auth[@]}" -d '{"task_id": 5}'
expect 400 "a number for task_id"
expect_field task_id "a number for task_id"
call POST /app/api/cases/r1/outcome "${auth[@]}" -d '{"measure": {"ons4": {"anxiety": "NaN"}}}'
expect 400 "NaN for ONS4 anxiety"
expect_field measure.ons4.anxiety "NaN for ONS4 anxiety"
call POST /app/api/cases/r1/close "${auth[@]}" -d '{"reason": "CLOSURE_REASON_BORED"}'
expect 400 "an unknown closure reason"
expect_field reason "an unknown closure reason"
call POST /app/api/task-done "${auth[@]}" --data-binary "$(python3 -c 'print("["*4000+"]"*4000)')"
expect 400 "deeply nested JSON"
expect_field body "deeply nested JSON"
call POST /app/api/task-done "${auth[@]}" -d "{\"task_id\": \"t\", \"request_id\": \"$(printf 'r%.0s' {1..65})\"}"
expect 400 "a request_id of 65 characters"
expect_field request_id "a request_id of 65 characters"

call POST /app/api/task-done -H "Authorization: Bearer $lw" -H "Content-Type: text/plain" \
  -d '{"task_id": "t"}'
expect 400 "a text/plain body"
expect_field content-type "a text/plain body"

# --- every answer under /app has the headers ----------------------------------------------------
for path in /app/ /app/app.js /app/nope /app/api/nope /app/api/tasks/stream; do
  call GET "$path"
  expect_headers "GET $path"
done
# Beyond the bound on streams (one here): the refusal has the headers too.
curl -sS --max-time 20 -o /dev/null -H "Authorization: Bearer $lw" \
  "$service_http/app/api/tasks/stream" &
held=$!
pids+=("$held")
for _ in $(seq 1 100); do
  curl -sS "$service_http/metrics" | grep -q '^signpost_followup_app_streams 1' && break
  sleep 0.1
done
call GET /app/api/tasks/stream -H "Authorization: Bearer $(token --role link_worker --sub lw-b --network pcn-a)"
expect 503 "a stream beyond the bound"
kill "$held" 2>/dev/null || true
call GET /app/nope
expect 404 "GET /app/nope"
call POST /app/nope -d '{}'
expect 404 "POST /app/nope"
# httplib's own answers (a method with no route, a body beyond the bound): no body, the headers.
call DELETE /app/api/me -H "Authorization: Bearer $lw"
[ "$status" = 404 ] || fail "DELETE /app/api/me answered $status"
expect_bodyless_headers "DELETE /app/api/me"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$work/big"
call POST /app/api/task-done "${auth[@]}" --data-binary @"$work/big"
[ "$status" = 413 ] || fail "a body of 2 MB answered $status"
expect_bodyless_headers "a body of 2 MB"
call GET /app
[ "$status" = 301 ] || fail "GET /app answered $status"
expect_headers "GET /app"

# --- the token is never logged ------------------------------------------------------------------
! grep -qF "${lw##*.}" "$work/signpost-followup.log" || fail "the token's signature is in the log"
echo PASS

#!/usr/bin/env bash
# The Open Referral UK 3.0 API of a real signpost-matching (the test run's Kafka, a redis-server of
# its own), over HTTPS with a certificate made for the test, read by an outside client: Python
# requests and jsonschema against the vendored ORUK schemas (oruk_api_client.py says what is
# checked).
set -euo pipefail
kafka_dir=$1
build=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/clients/client_test_env.sh"
# This test's matching listens over TLS, as deployed (client_test_env.sh says plaintext).
unset SIGNPOST_INSECURE
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1 || fail "making a certificate"

generate_python
start_redis
prefix="oruk-$$-$RANDOM."
"$root/tools/kafka" topics --dir "$kafka_dir" --prefix "$prefix" >"$work/topics.log" 2>&1 ||
  { cat "$work/topics.log"; fail "creating the topics"; }
start_service signpost-matching --kafka-bootstrap "$(cat "$kafka_dir/bootstrap")" \
  --topic-prefix "$prefix" --redis "$redis_addr" --tls-cert "$work/tls.crt" \
  --tls-key "$work/tls.key"
/usr/bin/python3 "$root/tests/clients/oruk_api_client.py" "$work/gen" "$service_addr" \
  "${service_http/http:/https:}" "$work/tls.crt" "$root/tests/services/matching/data/oruk" ||
  fail "the ORUK API client"

# The ORUK API is public and each page reads the directory's keys, while Kubernetes' probes and
# Prometheus share the listener's few threads: requests beyond the API's share are answered at
# once, 503 with Retry-After and the CORS header, not queued. Redis paused holds the admitted
# ones for the whole check, so which answer is which does not depend on timing.
https=${service_http/http:/https:}
redis-cli -h "${redis_addr%:*}" -p "${redis_addr#*:}" CLIENT PAUSE 20000 ALL >/dev/null ||
  fail "pausing redis"
busy=()
for i in $(seq 1 10); do
  curl -s --cacert "$work/tls.crt" --max-time 60 -D "$work/busy-$i.headers" -o "$work/busy-$i.body" \
    "$https/oruk/services?search=walking" &
  busy+=($!)
done
refused=0
for _ in $(seq 1 150); do
  refused=$(cat "$work"/busy-*.headers 2>/dev/null | grep -c "^Retry-After" || true)
  [ "$refused" -ge 4 ] && break
  sleep 0.1
done
# /healthz (the liveness probe; /readyz is rightly 503 while Redis does not answer).
curl -sf --cacert "$work/tls.crt" --max-time 60 "$https/healthz" >/dev/null ||
  fail "/healthz did not answer while ORUK requests waited on Redis"
redis-cli -h "${redis_addr%:*}" -p "${redis_addr#*:}" CLIENT UNPAUSE >/dev/null
wait "${busy[@]}" || true
# Two are admitted and wait on Redis; an admitted one gives up after the Redis command timeout
# (2 s), so one started later than that may be admitted too: at least 4 of 10, not exactly 8.
refused=$(cat "$work"/busy-*.headers | grep -c "^Retry-After" || true)
[ "$refused" -ge 4 ] ||
  fail "ORUK requests beyond the API's share were not refused while Redis was paused ($refused)"
for headers in $(grep -l "^Retry-After" "$work"/busy-*.headers || true); do
  grep -q "^HTTP/1.1 503" "$headers" && grep -qi "^Access-Control-Allow-Origin: \*" "$headers" ||
    fail "a refused ORUK request: $(cat "$headers")"
  body=${headers%.headers}.body
  /usr/bin/python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); assert b["status"]==503, b' \
    "$body" || fail "a refused ORUK request's body: $(cat "$body")"
done
echo "oruk_api_test: $refused of 10 concurrent ORUK requests refused busy while Redis was paused"

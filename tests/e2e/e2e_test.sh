#!/usr/bin/env bash
# End-to-end test: the whole system started by tools/run (its own Kafka, Redis with AOF, the four
# services, the synthetic region) in a folder of its own, driven by outside clients
# (tests/e2e/e2e_clients.py: Python grpcio from the .proto files, and kcat).
# usage: e2e_test.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$1
source "$root/tests/clients/client_test_env.sh"

state="$work/signpost"
# tools/run makes the system's own keyring, TLS certificates and token signing key, as on a
# user's machine.
env -u SIGNPOST_DATA_KEYS -u SIGNPOST_INSECURE -u SIGNPOST_NO_AUTH SIGNPOST_STATE="$state" SIGNPOST_BUILD_DIR="$build" "$root/tools/run" \
  >"$work/run.log" 2>&1 &
run_pid=$!
stop_run() {
  kill -TERM "$run_pid" 2>/dev/null || true
  wait "$run_pid" 2>/dev/null || true
}
trap 'stop_run; cleanup' EXIT
for _ in $(seq 1 1200); do
  [ -s "$state/endpoints.env" ] && break
  kill -0 "$run_pid" 2>/dev/null || { cat "$work/run.log"; fail "tools/run exited"; }
  sleep 0.1
done
[ -s "$state/endpoints.env" ] || { cat "$work/run.log"; fail "tools/run did not come up in 120 s"; }

# tools/run's broker runs for long: the JVM's full JIT (tools/kafka's default is C1 only, for tests).
broker_pid=$(cat "$state/kafka/node-1/pid")
if tr '\0' '\n' <"/proc/$broker_pid/cmdline" | grep -qx -- '-XX:TieredStopAtLevel=1'; then
  fail "tools/run's broker runs with C1 only; it should have the full JIT"
fi
tr '\0' '\n' <"/proc/$broker_pid/cmdline" | grep -qx 'kafka.Kafka' || fail "no broker at pid $broker_pid"

# The link-worker app's links: follow-up's /app/, signed in for the day as the region's first link
# worker and as its network's coordinator, written to the endpoints file and printed (tools/run
# prints its addresses just after writing the file).
for _ in $(seq 1 300); do
  grep -q "^Press Ctrl-C to stop" "$work/run.log" && break
  sleep 0.1
done
/usr/bin/python3 - "$state/endpoints.env" "$state/region/queues.txt" "$work/run.log" <<'PY' ||
import base64, json, sys
env = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[1]) if "=" in l)
worker = open(sys.argv[2]).readline().strip()
network = worker.rsplit("-lw", 1)[0]
app = env["FOLLOWUP_METRICS_URL"].removesuffix("/metrics") + "/app/"
printed = open(sys.argv[3]).read()
for key, role, sub in (("LINK_WORKER_APP_URL", "link_worker", worker),
                       ("COORDINATOR_APP_URL", "coordinator", f"coordinator-{network}")):
    url = env.get(key, "")
    assert url.startswith("https://") and url.startswith(app + "#token="), f"{key}={url}"
    assert url in printed, f"tools/run does not print {key}"
    payload = url.split("#token=")[1].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert (claims["role"], claims["sub"], claims["network"]) == (role, sub, network), claims
    assert claims["exp"] - claims["iat"] == 720 * 60, claims
PY
  fail "the link-worker app's links in endpoints.env and tools/run's output"

generate_python
if ! SIGNPOST_CTL="$build/bin/signpostctl" /usr/bin/python3 "$root/tests/e2e/e2e_clients.py" "$work/gen" "$state/endpoints.env" "$state/region" \
  "$root/tests/services/intake/data/referral_bundle.json" "$work/planted.txt"; then
  cp "$state"/logs/*.log "$work/" 2>/dev/null || true
  fail "the end-to-end ledger does not balance"
fi
# A GP system that speaks only FHIR over HTTPS (Python requests): its referral, the Task through
# the link worker's work, the message back, refusals and a cancellation. Every FHIR resource
# Signpost answered it with is then checked by HAPI FHIR's validator.
if ! SIGNPOST_CTL="$build/bin/signpostctl" /usr/bin/python3 "$root/tests/e2e/fhir_gp_system.py" "$work/gen" "$state/endpoints.env" \
  "$state/region" "$root/tests/services/intake/data/bars_referral_message.json" \
  "$root/tests/services/intake/data/bars_cancellation_message.json" "$work/fhir-emitted" "$work/planted.txt"; then
  cp "$state"/logs/*.log "$work/" 2>/dev/null || true
  fail "the FHIR GP system's checks failed"
fi
"$root/tests/fhir/validate_emitted.sh" "$work/fhir-emitted" 15 ||
  fail "HAPI FHIR's validator refused what Signpost emitted"
# No personal details in clear on any topic Signpost writes: identity and notes travel sealed.
# Only the inbound topic holds them as the GP systems wrote them.
[ "$(stat -c %a "$state/data-keys")" = 600 ] || fail "the keyring tools/run made is not private"
[ "$(stat -c %a "$state/auth/token-signing.pem")" = 600 ] || fail "the token signing key is not private"
bootstrap=$(sed -n 's/^KAFKA_BOOTSTRAP=//p' "$state/endpoints.env")
scanned=0
while IFS=$'\t' read -r topic _; do
  case "$topic" in "#"* | "" | signpost.referral.submitted) continue ;; esac
  kcat -b "$bootstrap" -C -t "$topic" -o beginning -e -q -f '%s\n' >"$work/topic.bin" 2>/dev/null ||
    fail "could not read $topic"
  scanned=$((scanned + $(stat -c %s "$work/topic.bin")))
  if grep -a -F -q -f "$work/planted.txt" "$work/topic.bin"; then
    grep -a -F -o -f "$work/planted.txt" "$work/topic.bin" | sort | uniq -c | head
    fail "personal details in clear on $topic"
  fi
done <"$root/proto/signpost/v1/topics.tsv"
[ "$scanned" -gt 100000 ] || fail "only $scanned bytes on the topics: nothing to scan?"
# Nor in what Redis keeps on disk (follow-up's cases hold identity and notes sealed): the AOF as
# the run wrote it, then a fresh RDB and a rewritten AOF.
"$root/tests/e2e/scan_redis_files.sh" "$state" "$work/planted.txt" ||
  fail "personal details in Redis's files (above)"
stop_run
# No personal details in any service's log: the NHS numbers, names and phone numbers planted.
[ -s "$work/planted.txt" ] || fail "no planted details to look for"
if grep -F -l -f "$work/planted.txt" "$state"/logs/*.log; then
  grep -F -o -f "$work/planted.txt" "$state"/logs/*.log | sort | uniq -c | head
  fail "personal details in the logs above"
fi
grep -q "tools/run: stopped" "$work/run.log" || { cat "$work/run.log"; fail "tools/run did not stop cleanly"; }
echo "PASS"

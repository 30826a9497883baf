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
SIGNPOST_STATE="$state" SIGNPOST_BUILD_DIR="$build" "$root/tools/run" >"$work/run.log" 2>&1 &
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

generate_python
if ! /usr/bin/python3 "$root/tests/e2e/e2e_clients.py" "$work/gen" "$state/endpoints.env" "$state/region" \
  "$root/tests/services/intake/data/referral_bundle.json" "$work/planted.txt"; then
  cp "$state"/logs/*.log "$work/" 2>/dev/null || true
  fail "the end-to-end ledger does not balance"
fi
stop_run
# No personal details in any service's log: the NHS numbers, names and phone numbers planted.
[ -s "$work/planted.txt" ] || fail "no planted details to look for"
if grep -F -l -f "$work/planted.txt" "$state"/logs/*.log; then
  grep -F -o -f "$work/planted.txt" "$state"/logs/*.log | sort | uniq -c | head
  fail "personal details in the logs above"
fi
grep -q "tools/run: stopped" "$work/run.log" || { cat "$work/run.log"; fail "tools/run did not stop cleanly"; }
echo "PASS"

#!/usr/bin/env bash
# Fault suite: a 3-node Kafka (topics replicated 3 times, min.insync.replicas=2) under a steady
# load of referrals. One broker is killed with SIGKILL for 30 s and started again; then every
# broker is stopped for 30 s and the cluster started again. The ledger
# (tests/faults/fault_clients.py) must show nothing acknowledged lost and nothing twice to a link
# worker or a GP.
# usage: broker_outage_test.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$1
nodes=3
source "$root/tests/faults/fault_env.sh"
start_clients 90 20

sleep 10
echo "kill -9 broker 2 for 30 s"
"$root/tools/kafka" kill-node 2 --dir "$work/kafka" >/dev/null
sleep 30
"$root/tools/kafka" start-node 2 --dir "$work/kafka" >/dev/null
sleep 10
echo "every broker stopped for 30 s"
"$root/tools/kafka" stop --dir "$work/kafka" >/dev/null
sleep 30
"$root/tools/kafka" start --dir "$work/kafka" >"$work/kafka-restart.log" 2>&1 ||
  fail "the cluster did not come back"
check_ledger
echo "PASS"

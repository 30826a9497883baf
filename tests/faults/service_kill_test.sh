#!/usr/bin/env bash
# Fault suite: under a steady load of referrals, each service in turn is killed with SIGKILL
# mid-batch and restarted a few seconds later on the same address; redis-server is killed and
# restarted from its AOF; poison records go onto every input topic; matching is frozen (SIGSTOP)
# for 15 s, longer than its group session, so a backlog builds and it must catch up. The ledger
# (tests/faults/fault_clients.py) must show nothing acknowledged lost and nothing twice to a link
# worker or a GP, and every poison record must be set aside with its reason.
# usage: service_kill_test.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$1
source "$root/tests/faults/fault_env.sh"
start_clients 60 20

sleep 8
for s in intake matching followup; do
  echo "kill -9 signpost-$s"
  kill -9 "${pid[$s]}"
  sleep 3
  start "$s"
  sleep 8
done
echo "kill -9 redis-server"
kill -9 "$redis_pid"
sleep 3
start_redis_aof
sleep 4
echo "poison on every input topic"
poisoned=(signpost.referral.submitted signpost.referral.received signpost.referral.matched
          signpost.followup.events signpost.referral.rejected signpost.directory.resources)
for topic in "${poisoned[@]}"; do
  printf '\x08\x96\x01 not an event' | kcat -P -b "$bootstrap" -t "$topic" -k "poison-$topic" \
    -H content-type=application/x-protobuf
done
sleep 4
echo "matching frozen for 15 s (a slow consumer), then thawed"
kill -STOP "${pid[matching]}"
sleep 15
kill -CONT "${pid[matching]}"
check_ledger

# Every poison record set aside with its reason: on the dead-letter topic for each group that
# reads the topic, or (for submissions) on the rejected topic, which is where GP systems look.
kcat -C -b "$bootstrap" -t signpost.deadletter -o beginning -e -q -f '%k|%h\n' >"$work/dead.txt"
for topic in signpost.referral.received signpost.referral.matched signpost.followup.events \
  signpost.referral.rejected signpost.directory.resources; do
  grep -q "^poison-$topic|.*dlq-source-topic=$topic" "$work/dead.txt" ||
    { cat "$work/dead.txt"; fail "the poison record on $topic is not on the dead-letter topic"; }
done
grep -q "^poison-" "$work/dead.txt" && grep "^poison-" "$work/dead.txt" | grep -v "dlq-reason=" &&
  fail "a dead letter has no reason"
kcat -C -b "$bootstrap" -t signpost.referral.rejected -o beginning -e -q -f '%k\n' |
  grep -q "poison-signpost.referral.submitted" ||
  fail "the unreadable submission is not on the rejected topic"
echo "dead letters: $(grep -c '^poison-' "$work/dead.txt") poison records set aside, each with its reason"
echo "PASS"

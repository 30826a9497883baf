#!/usr/bin/env bash
# Outside tools against the local Kafka that tools/kafka started: kcat lists the Signpost topics
# and produces and consumes; Kafka's own CLI describes a consumer group with its lag.
set -euo pipefail
dir=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
bootstrap=$(cat "$dir/bootstrap")
fail() { echo "FAIL: $*" >&2; exit 1; }

listing=$(kcat -b "$bootstrap" -L)
while IFS=$'\t' read -r name partitions _; do
  case "$name" in ''|'#'*) continue ;; esac
  grep -q "topic \"$name\" with $partitions partitions" <<<"$listing" ||
    fail "kcat -L does not list $name with $partitions partitions"
done <"$root/proto/signpost/v1/topics.tsv"

marker="kcat-$$-$RANDOM"
printf '%s\n' "$marker-1" "$marker-2" | kcat -b "$bootstrap" -P -t signpost.deadletter -k "$marker"
got=$(kcat -b "$bootstrap" -C -t signpost.deadletter -o beginning -e -q -f '%k=%s\n' | grep "^$marker=" || true)
[ "$(wc -l <<<"$got")" -eq 2 ] || fail "kcat did not read back both messages: $got"

group="kcat-group-$$"
echo seed | kcat -b "$bootstrap" -P -t signpost.deadletter -p 0  # so the group commits on partition 0
kcat -b "$bootstrap" -G "$group" -o beginning -e -q signpost.deadletter >/dev/null 2>&1 || true
printf 'one\ntwo\nthree\n' | kcat -b "$bootstrap" -P -t signpost.deadletter -p 0
report=$("$root/tools/kafka" cli kafka-consumer-groups --bootstrap-server "$bootstrap" --describe --group "$group" 2>&1)
grep -q "$group" <<<"$report" || fail "kafka-consumer-groups does not show $group: $report"
lag=$(awk -v g="$group" '$1==g && $5 ~ /^[0-9]+$/ {s+=$6} END {print s+0}' <<<"$report")
[ "$lag" -eq 3 ] || fail "expected lag 3 for $group, got $lag: $report"

"$root/tools/kafka" status --dir "$dir" >/dev/null || fail "tools/kafka status says the broker is down"
# A test broker starts fast: C1 only, unless SIGNPOST_KAFKA_JIT=full (tools/run's; the e2e test
# checks that one).
broker_cmdline=$(tr '\0' '\n' <"/proc/$(cat "$dir/node-1/pid")/cmdline")
grep -qx 'kafka.Kafka' <<<"$broker_cmdline" || fail "node-1's pid is not a broker"
if [ "${SIGNPOST_KAFKA_JIT:-quick}" = quick ]; then
  grep -qx -- '-XX:TieredStopAtLevel=1' <<<"$broker_cmdline" || fail "the test broker is not on the quick JIT"
fi
echo "kafka tools: kcat listing, produce/consume and consumer-group lag all as expected"

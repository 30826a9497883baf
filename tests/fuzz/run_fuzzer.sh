#!/usr/bin/env bash
# Runs a libFuzzer target for a fixed time from the seed corpus in the repository, in a working
# corpus of its own (the seeds are not written to). A crash, a leak, a timeout or an
# out-of-memory fails the test and leaves the input in ARTIFACTS.
# usage: run_fuzzer.sh BINARY SEEDS SECONDS ARTIFACTS
set -euo pipefail
binary=$1 seeds=$2 seconds=$3 artifacts=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
  -print_final_stats=1 -artifact_prefix="$artifacts/$(basename "$binary")-" "$work" "$seeds"

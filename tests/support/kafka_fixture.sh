#!/usr/bin/env bash
# ctest fixture: one local Kafka for the whole test run, in a fresh folder, stopped at the end
# (ctest runs the cleanup even when tests fail).
set -euo pipefail
dir=$2
kafka=$(cd "$(dirname "$0")/../.." && pwd)/tools/kafka
case "$1" in
  start)
    "$kafka" stop --dir "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
    "$kafka" start --dir "$dir" ;;
  stop)
    "$kafka" stop --dir "$dir" ;;
esac

#!/usr/bin/env bash
# Scans what tools/run's Redis keeps on disk for planted personal details: the AOF as the run left
# it (every write since the state folder was made: history, not only what is held now), then a
# fresh RDB (SAVE) and the AOF rewritten from the data set (BGREWRITEAOF), both written without
# compression so that a value in clear is there byte for byte (LZF would hide it from grep).
# usage: scan_redis_files.sh STATE_DIR PLANTED_FILE   (Redis still running; exit 1 when found)
set -euo pipefail
state=$1
planted=$2
dir="$state/redis"
port=$(cat "$dir/port")
[ -s "$planted" ] || { echo "scan_redis_files: no planted details to look for" >&2; exit 2; }
# The password tools/run made, when its Redis has one.
if [ -s "$dir/password" ]; then REDISCLI_AUTH=$(cat "$dir/password"); export REDISCLI_AUTH; fi
cli() { redis-cli --no-auth-warning -p "$port" "$@"; }

found=0
scan() { # what files...
  local what=$1 bytes=0 f
  shift
  for f in "$@"; do
    [ -f "$f" ] || continue
    bytes=$((bytes + $(stat -c %s "$f")))
    if grep -a -F -q -f "$planted" "$f"; then
      echo "personal details in clear in Redis's $what ($f):" >&2
      grep -a -F -o -f "$planted" "$f" | sort | uniq -c | head >&2
      found=1
    fi
  done
  echo "scanned $what: $bytes bytes"
  [ "$bytes" -gt 0 ] || { echo "scan_redis_files: no $what to scan" >&2; exit 2; }
}

# 1. The AOF as written during the run (before a rewrite folds its history away).
scan "AOF as written" "$dir"/appendonlydir/* "$dir"/appendonly.aof
# 2. A snapshot and a rewritten AOF of what Redis holds now.
cli CONFIG SET rdbcompression no >/dev/null
cli SAVE >/dev/null
rdb="$dir/$(cli CONFIG GET dbfilename | sed -n 2p)"
scan "RDB (SAVE)" "$rdb"
cli BGREWRITEAOF >/dev/null
for _ in $(seq 1 600); do
  cli INFO persistence | grep -q '^aof_rewrite_in_progress:0' &&
    ! cli INFO persistence | grep -q '^aof_rewrite_scheduled:1' && break
  sleep 0.1
done
cli INFO persistence | grep -q '^aof_last_bgrewrite_status:ok' ||
  { echo "scan_redis_files: the AOF rewrite failed" >&2; exit 2; }
scan "AOF rewritten" "$dir"/appendonlydir/*
exit $found

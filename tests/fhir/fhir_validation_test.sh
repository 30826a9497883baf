#!/usr/bin/env bash
# HAPI FHIR's validator (tools/fhir-validate, base R4, offline) over every FHIR resource in tests/:
# each *.json with a top-level resourceType, wherever it is, must give 0 errors, so a new example
# joins by being written. Resources that are broken on purpose (inputs for rejection tests) live
# in a folder named invalid/ or are named *.invalid.json; they are left out of that set, and the
# broken fixtures here (tests/fhir/invalid/) must each give errors, so a validator that passes
# everything fails this test. The fuzz corpus is left out: its inputs are odd on purpose.
# One JVM validates everything.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
fail() { echo "FAIL: $*" >&2; exit 1; }

is_fhir_resource() {
  python3 -c 'import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        d = json.load(f)
except (OSError, ValueError):
    sys.exit(1)
sys.exit(0 if isinstance(d, dict) and isinstance(d.get("resourceType"), str) else 1)' "$1"
}

good=()
while IFS= read -r -d '' f; do
  is_fhir_resource "$f" && good+=("$f")
done < <(find tests -name '*.json' -not -path '*/node_modules/*' -not -path 'tests/fuzz/*' \
  -not -path '*/invalid/*' -not -name '*.invalid.json' -print0 | sort -z)
broken=()
while IFS= read -r -d '' f; do broken+=("$f"); done < <(find tests/fhir/invalid -name '*.json' -print0 | sort -z)
[ ${#good[@]} -ge 2 ] || fail "found only ${#good[@]} FHIR resources under tests/: the search is broken"
[ ${#broken[@]} -ge 1 ] || fail "no broken fixtures under tests/fhir/invalid/"

status=0
report=$("$root/tools/fhir-validate" "${good[@]}" "${broken[@]}") || status=$?
echo "$report"
[ "$status" -eq 1 ] || fail "tools/fhir-validate exited $status, not 1 (the broken fixtures have errors)"
total=$((${#good[@]} + ${#broken[@]}))
summary=$(tail -n 1 <<<"$report")
[[ "$summary" =~ ^$total\ resources,\ ([0-9]+)\ errors,\ ([0-9]+)\ warnings$ ]] ||
  fail "expected a summary for $total resources, got: $summary"
all_errors=${BASH_REMATCH[1]}
all_warnings=${BASH_REMATCH[2]}

errors_in() { # file: its ERROR and FATAL lines
  awk -v f="$1:" 'index($0, f) == 1 && / (ERROR|FATAL) /' <<<"$report"
}

bad_good=0
for f in "${good[@]}"; do
  found=$(errors_in "$f")
  if [ -n "$found" ]; then
    echo "FAIL: $f has $(wc -l <<<"$found") error(s)" >&2
    bad_good=$((bad_good + 1))
  fi
done
for f in "${broken[@]}"; do
  [ -n "$(errors_in "$f")" ] || fail "the broken fixture $f gave no error: the validator is vacuous"
done
# Each defect planted in the broken message bundle is found, where it is.
b=tests/fhir/invalid/broken_message_bundle.json
for expected in \
  "ERROR Bundle: Constraint failed: bdl-12: 'A message must have a MessageHeader as the first resource'" \
  "ERROR Bundle.entry[0].resource/*Task/7d3f1c52-1e8a-4c1b-bb0a-3e5d9c4a2f02*/: Task.status: minimum required = 1" \
  "ERROR Bundle.entry[4].resource/*Observation/e8f1a2b3-c4d5-4e6f-8a9b-0c1d2e3f4a05*/: Observation.code: minimum required = 1"; do
  errors_in "$b" | grep -qF -- "$expected" || fail "$b: expected \"$expected\""
done

broken_errors=0
for f in "${broken[@]}"; do broken_errors=$((broken_errors + $(errors_in "$f" | wc -l))); done
echo "fhir validation: ${#good[@]} resources in tests/ with $((all_errors - broken_errors)) errors;" \
  "${#broken[@]} broken fixture(s) with $broken_errors errors; $all_warnings warnings in all"
[ "$bad_good" -eq 0 ] || fail "$bad_good FHIR resource(s) under tests/ are not valid R4"

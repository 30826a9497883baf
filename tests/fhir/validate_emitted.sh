#!/usr/bin/env bash
# The end-to-end run's hook for HAPI FHIR's validator: DIR holds every FHIR resource Signpost
# answered with, one *.json file each, as an outside client wrote them. Every file must be a FHIR
# resource (explicit files: one without a top-level resourceType is an error), all must be valid
# R4 (0 errors), and there must be at least MIN of them, so a client that saved nothing fails.
#
#   tests/fhir/validate_emitted.sh DIR MIN
#
# Prints the validator's errors (with --warnings if SIGNPOST_FHIR_WARNINGS=1) and its summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:?usage: validate_emitted.sh DIR MIN}
min=${2:?usage: validate_emitted.sh DIR MIN}
fail() { echo "FAIL: $*" >&2; exit 1; }

shopt -s nullglob
files=("$dir"/*.json)
[ ${#files[@]} -ge "$min" ] || fail "$dir holds ${#files[@]} .json files, expected at least $min"
flags=()
[ "${SIGNPOST_FHIR_WARNINGS:-0}" = 1 ] && flags=(--warnings)
status=0
report=$("$root/tools/fhir-validate" "${flags[@]}" "${files[@]}") || status=$?
echo "$report"
summary=$(tail -n 1 <<<"$report")
[[ "$summary" =~ ^${#files[@]}\ resources,\ 0\ errors, ]] && [ "$status" -eq 0 ] ||
  fail "HAPI FHIR's validator found errors in what Signpost emitted (exit $status): $summary"
echo "emitted FHIR: $summary"

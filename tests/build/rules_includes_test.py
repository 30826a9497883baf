#!/usr/bin/env python3
"""Each service's pure rules include only the contracts, Abseil, the standard library and other
rules headers: no Redis, Kafka, gRPC server, HTTP, files or threads.

The rules are the sources of signpost_<service>_rules in services/<service>/CMakeLists.txt. Every
quoted include of such a source, and of the service's own headers it reaches, must be on the
allow-list below; a failure names the file and the include. rules_purity_test checks the same at
link time.

usage: rules_includes_test.py <source dir>
"""
import re
import sys
from pathlib import Path

SERVICES = ("intake", "matching", "followup", "monitor")

# Quoted includes a rule may use besides its own service's headers (checked in turn).
ALLOWED_QUOTED = (
    re.compile(r"absl/.+\.h"),
    # The contracts' messages; not their gRPC stubs (.grpc.pb.h).
    re.compile(r"signpost/v1/[a-z_]+(?<!\.grpc)\.pb\.h"),
    re.compile(r"google/protobuf/[a-z_/]+\.h"),
    # Header-only constants and conversions, and the field-violation builder (signpost_status).
    re.compile(r"common/events/(case_states|timestamp|unrouted)\.h"),
    re.compile(r"common/status/field_violations\.h"),
    # Pure shared parts with libraries of their own: an event's envelope (signpost_event_envelope),
    # the caller and its role (signpost_principal), the contract's topic table (signpost_topics).
    re.compile(r"common/events/event_envelope\.h"),
    re.compile(r"common/auth/principal\.h"),
    re.compile(r"common/kafka/topics\.h"),
    # A postcode file's row, parsed (signpost_geo).
    re.compile(r"common/geo/postcode_row\.h"),
)
ALLOWED_ANGLE = re.compile(r"google/protobuf/[a-z_/]+\.h|[a-z_]+")
# Standard headers that reach files, processes or threads.
FORBIDDEN_STD = {"thread", "fstream", "filesystem", "iostream", "cstdio", "future", "condition_variable"}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]', re.M)


def rules_sources(root, service):
    cmake = (root / "services" / service / "CMakeLists.txt").read_text()
    found = re.search(r"add_library\(signpost_%s_rules STATIC([^)]*)\)" % service, cmake)
    if not found:
        raise SystemExit(f"services/{service}/CMakeLists.txt: no signpost_{service}_rules library")
    return [root / "services" / service / name for name in found.group(1).split()]


def check_file(root, service, path, seen, failures):
    if path in seen:
        return
    seen.add(path)
    own_prefix = f"services/{service}/"
    for kind, name in INCLUDE.findall(path.read_text()):
        where = f"{path.relative_to(root)}: #include {kind}{name}{'>' if kind == '<' else kind}"
        if kind == "<":
            if not ALLOWED_ANGLE.fullmatch(name) or name in FORBIDDEN_STD:
                failures.append(where)
            continue
        if name.startswith(own_prefix) and name.endswith(".h") and not name.endswith(".lua.h"):
            header = root / name
            if header.exists():
                check_file(root, service, header, seen, failures)
                continue
        if not any(pattern.fullmatch(name) for pattern in ALLOWED_QUOTED):
            failures.append(where)


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    failures = []
    checked = 0
    for service in SERVICES:
        seen = set()
        for source in rules_sources(root, service):
            check_file(root, service, source, seen, failures)
        checked += len(seen)
    if failures:
        print("rules reach code outside the contracts, Abseil and other rules:")
        for failure in failures:
            print("  " + failure)
        return 1
    print(f"rules_includes_test: {checked} rules files include only allowed headers")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""What each service has sent to Redis and Kafka so far, from its own /metrics, as JSON on stdout.

    service_counts.py [--ca FILE] NAME=METRICS_URL [NAME=METRICS_URL ...]

Per service: Redis round trips and commands (signpost_redis_*: a script is one command, a pipeline
one round trip) and the round trips that waited for a free connection of the pool, Kafka requests
sent by its producer and by its consumers, the bytes they carried, and the messages it produced
and fetched (signpost_kafka_*, from librdkafka's statistics, which
each client reports once a second: a snapshot may lag its process by up to that). A message
fetched is a message parsed. tools/bench takes one before and one after each run and reports the
difference per referral, a column per service. A service that cannot be read is left out.
"""
import argparse
import json
import re
import ssl
import sys
import urllib.request

COUNTED = {
    "signpost_redis_round_trips_total": "redis_round_trips",
    "signpost_redis_commands_total": "redis_commands",
    "signpost_redis_pool_waits_total": "redis_pool_waits",
}
BY_CLIENT = {
    "signpost_kafka_requests_total": "kafka_requests",
    "signpost_kafka_request_bytes_total": "kafka_request_bytes",
    "signpost_kafka_messages_total": "kafka_messages",
}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$')


def counts(text):
    out = {}
    for line in text.splitlines():
        m = SAMPLE.match(line.strip())
        if not m:
            continue
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        if name in COUNTED:
            key = COUNTED[name]
        elif name in BY_CLIENT:
            client = re.search(r'client="([^"]*)"', labels)
            key = f"{BY_CLIENT[name]}_{client.group(1) if client else 'other'}"
        else:
            continue
        out[key] = out.get(key, 0.0) + value
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ca")
    parser.add_argument("services", nargs="+")
    args = parser.parse_args()
    context = ssl.create_default_context(cafile=args.ca) if args.ca else None
    result = {}
    for pair in args.services:
        name, url = pair.split("=", 1)
        try:
            with urllib.request.urlopen(url, timeout=5, context=context) as response:
                result[name] = counts(response.read().decode())
        except (OSError, ValueError) as e:
            print(f"service_counts.py: {name}: {e}", file=sys.stderr)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()

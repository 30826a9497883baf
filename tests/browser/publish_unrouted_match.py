#!/usr/bin/python3
"""Puts one referral.matched event on the topic with kcat, as matching writes it for a practice no
network lists: no link worker, network "unrouted".

usage: publish_unrouted_match.py GENERATED_DIR KAFKA_BOOTSTRAP TOPIC_PREFIX
"""
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, sys.argv[1])
from signpost.v1 import events_pb2  # noqa: E402

bootstrap, prefix = sys.argv[2], sys.argv[3]
referral_id = "browser-unrouted-" + uuid.uuid4().hex[:8]
event = events_pb2.Event()
event.envelope.event_id = str(uuid.uuid4())
event.envelope.type = "referral.matched"
event.envelope.schema_version = 1
event.envelope.referral_id = referral_id
event.envelope.occurred_at.GetCurrentTime()
matched = event.referral_matched
matched.referral.referrer.ods_code = "A81099"
matched.network_id = "unrouted"
matched.assignment_reasons.append("no network serves the referring practice A81099")
with tempfile.NamedTemporaryFile(suffix=".bin") as f:
    f.write(event.SerializeToString())
    f.flush()
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", prefix + "signpost.referral.matched",
                    "-k", referral_id, f.name], check=True, timeout=60)
print("published an unrouted match", referral_id)

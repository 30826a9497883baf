"""Helpers the Python test clients share: events read and written with kcat, and test NHS
numbers.

The caller puts the generated Python modules (signpost.v1) on sys.path first.
"""
import struct
import subprocess
import tempfile
import uuid


def read_events(bootstrap, topic):
    """Every record of `topic` from the beginning, as signpost.v1.Event; records that are not
    one (poison a test put there) are left out."""
    from signpost.v1 import events_pb2
    out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e",
                          "-q", "-f", "%R%s"], capture_output=True, check=True).stdout
    events, at = [], 0
    while at + 4 <= len(out):
        (size,) = struct.unpack(">i", out[at:at + 4])
        at += 4
        if size < 0:
            continue
        try:
            events.append(events_pb2.Event.FromString(out[at:at + size]))
        except Exception:
            pass
        at += size
    return events


def new_event(event_type, referral_id):
    """A signpost.v1.Event with its envelope filled in as our services seal one (a fresh id, the
    type, schema version 1, occurred now); the caller sets its payload."""
    from signpost.v1 import events_pb2
    event = events_pb2.Event()
    event.envelope.event_id = str(uuid.uuid4())
    event.envelope.type = event_type
    event.envelope.schema_version = 1
    event.envelope.referral_id = referral_id
    event.envelope.occurred_at.GetCurrentTime()
    return event


def publish_event(bootstrap, topic, key, event):
    """Puts `event` on `topic` under `key` with kcat, its bytes as they are (one file, one
    message)."""
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(event.SerializeToString())
        f.flush()
        subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-k", key, f.name], check=True,
                       timeout=60)


def nhs_number(rng):
    """A valid NHS number (modulus 11) from the 999 range the NHS keeps for testing."""
    while True:
        digits = "999" + "".join(str(rng.randrange(10)) for _ in range(6))
        check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(digits)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return digits + str(check)

"""Helpers the Python test clients share: reading a topic with kcat, and test NHS numbers.

The caller puts the generated Python modules (signpost.v1) on sys.path first.
"""
import struct
import subprocess


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


def nhs_number(rng):
    """A valid NHS number (modulus 11) from the 999 range the NHS keeps for testing."""
    while True:
        digits = "999" + "".join(str(rng.randrange(10)) for _ in range(6))
        check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(digits)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return digits + str(check)

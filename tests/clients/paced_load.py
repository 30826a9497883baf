"""A steady load for the fault tests: one call per 1/rate seconds, each on a thread of its own so
that a slow answer (a broker or Redis away) does not slow the load down."""

import threading
import time


def run_at_rate(rate, seconds, send):
    """Calls send(i) for i = 0, 1, ... at `rate` per second for `seconds`; returns how many were
    started once every one has returned."""
    senders = []
    start = time.time()
    i = 0
    while time.time() - start < seconds:
        due = start + i / rate
        if due > time.time():
            time.sleep(due - time.time())
        sender = threading.Thread(target=send, args=(i,))
        sender.start()
        senders.append(sender)
        i += 1
    for sender in senders:
        sender.join()
    return i

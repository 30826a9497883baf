#!/usr/bin/python3
"""Steady load and the ledger for the fault suite.

A GP system (grpcio) submits referrals at a steady rate for LOAD_SECONDS, retrying a call that
fails as unavailable with the same source referral id (as a real one would, so a retry is never
a second referral). Link-worker apps subscribe to every queue and resume with their last token
whenever a stream breaks. At the end the ledger, read from the apps and from the topics (kcat):
submitted, acknowledged, received, matched, tasks delivered, duplicates, lost.

Required: lost = 0 for every acknowledged referral; no link worker gets a second first-contact
task for a referral; no GP gets two messages of one kind for a referral under different keys.

usage: fault_clients.py GENERATED_DIR INTAKE FOLLOWUP KAFKA REGION_DIR LOAD_SECONDS RATE
"""
import collections
import os
import random
import sys
import threading
import time
import uuid

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
import grpc  # noqa: E402
from kafka_and_nhs import nhs_number as test_nhs_number, read_events  # noqa: E402
from referrals import loneliness_referral  # noqa: E402
from paced_load import run_at_rate  # noqa: E402
from task_feed import follow_tasks  # noqa: E402
from signpost.v1 import (events_pb2, followup_pb2, followup_service_pb2_grpc,  # noqa: E402
                         intake_service_pb2, intake_service_pb2_grpc)

intake_addr, followup_addr, bootstrap, region_dir = sys.argv[2:6]
load_seconds, rate = float(sys.argv[6]), float(sys.argv[7])
practices = [l.strip() for l in open(f"{region_dir}/practices.txt") if l.strip()]
queues = [l.strip() for l in open(f"{region_dir}/queues.txt") if l.strip()]
postcodes = [l.split(",")[0] for l in open(f"{region_dir}/postcodes.csv").readlines()[1:]
             if " " in l.split(",")[0]]
rng = random.Random(7)
run = uuid.uuid4().hex[:8]
lock = threading.Lock()
stop = threading.Event()

# --- link-worker apps: every queue, resuming after any break ---------------------------------
followup = followup_service_pb2_grpc.FollowUpServiceStub(grpc.insecure_channel(followup_addr))
tasks_of = collections.defaultdict(set)  # referral id -> first-contact task ids
deliveries = collections.Counter()  # task id -> times delivered as a live update
resumes = collections.Counter()


def subscribe(q):
    def on_update(update):
        t = update.task
        if t.kind == followup_pb2.TASK_KIND_FIRST_CONTACT and \
                t.status == followup_pb2.TASK_STATUS_OPEN:
            with lock:
                tasks_of[t.referral_id].add(t.id)
                if not update.snapshot:
                    deliveries[t.id] += 1

    def on_break(reset):
        with lock:
            resumes[q] += 1

    follow_tasks([followup], q, stop, on_update, on_break)


threads = [threading.Thread(target=subscribe, args=(q,), daemon=True) for q in queues]
for t in threads:
    t.start()

# --- the GP system ---------------------------------------------------------------------------
intake = intake_service_pb2_grpc.IntakeServiceStub(grpc.insecure_channel(intake_addr))


def nhs_number():
    return test_nhs_number(rng)


def referral(i):
    return loneliness_referral("fault-gp", f"F-{run}-{i}", rng.choice(practices), nhs_number(),
                               rng.choice(postcodes))


acknowledged = {}  # source id -> referral id
given_up = []


def submit(i):
    r = referral(i)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            response = intake.SubmitReferral(intake_service_pb2.SubmitReferralRequest(referral=r),
                                             timeout=5)
            with lock:
                acknowledged[r.source_referral_id] = response.referral_id
            return
        except grpc.RpcError as error:
            if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                print(f"refused {r.source_referral_id}: {error.code()} {error.details()}")
                break
            time.sleep(0.5)
    with lock:
        given_up.append(r.source_referral_id)


submitted = run_at_rate(rate, load_seconds, submit)

# Drain: every acknowledged referral's task, or give up after 120 s.
deadline = time.time() + 120
while time.time() < deadline:
    with lock:
        waiting = [rid for rid in acknowledged.values() if not tasks_of.get(rid)]
    if not waiting:
        break
    time.sleep(1)
time.sleep(3)
stop.set()


def read_topic(topic):
    return read_events(bootstrap, topic)


received = {e.referral_received.referral.source_referral_id
            for e in read_topic("signpost.referral.received") if e.HasField("referral_received")}
matched = {e.envelope.referral_id for e in read_topic("signpost.referral.matched")}
feedback = collections.defaultdict(set)  # (source id, kind) -> idempotency keys
feedback_messages = collections.Counter()
for e in read_topic("signpost.referrer.feedback"):
    f = e.referrer_feedback
    feedback[(f.source_referral_id, f.kind)].add(f.idempotency_key)
    feedback_messages[(f.source_referral_id, f.kind)] += 1

with lock:
    ids = set(acknowledged.values())
    delivered = {rid for rid in ids if tasks_of.get(rid)}
    second_tasks = sum(1 for rid in ids if len(tasks_of.get(rid, ())) > 1)
    repeated_live = sum(1 for tid, n in deliveries.items() if n > 1)
    resumed = sum(resumes.values())
gp_duplicates = sum(1 for keys in feedback.values() if len(keys) > 1)
redelivered_messages = sum(n - 1 for n in feedback_messages.values() if n > 1)
lost = sorted(s for s, rid in acknowledged.items() if rid not in delivered)
print(f"ledger: submitted {submitted}, acknowledged {len(acknowledged)}, given up {len(given_up)}, "
      f"received {len(received & set(acknowledged))}, matched {len(matched & ids)}, "
      f"tasks delivered {len(delivered)}, duplicates to link workers {second_tasks + repeated_live}, "
      f"duplicates to GPs {gp_duplicates} (plus {redelivered_messages} redelivered messages with "
      f"the same idempotency key), lost {len(lost)}; streams resumed {resumed} times", flush=True)
failures = []
if lost:
    failures.append(f"lost: {lost[:10]}")
if second_tasks or repeated_live:
    failures.append(f"a link worker got a task twice ({second_tasks} second tasks, "
                    f"{repeated_live} repeated deliveries)")
if gp_duplicates:
    failures.append(f"{gp_duplicates} GP messages sent twice under different keys")
if len(acknowledged) < submitted * 0.5:
    failures.append("fewer than half the referrals were acknowledged: the load did not run")
if failures:
    sys.exit("FAIL: " + "; ".join(failures))
print("PASS")

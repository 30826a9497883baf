#!/usr/bin/python3
"""Steady load and the ledger for the Redis failover fault test (redis_failover_test.sh).

A GP system (grpcio) submits referrals at a steady rate for LOAD_SECONDS, retrying a call that
fails as unavailable with the same source referral id, as a real one would. Link-worker apps
follow every queue and record one contact attempt (RecordContact, no answer) on each case whose
first-contact task they see, retrying the same way (with the action's request id, the same on
every retry). Every call's start, end and outcome is kept.

When the load is over and every acknowledged referral's case action has been answered, the
ledger: each acknowledged submission readable with GetReferral and on the received topic under
one referral id (else lost; two ids for one source referral: duplicated); each acknowledged
case action applied exactly once (GetCase's contact_attempts 1; 0 lost, 2 or more duplicated).
Recovery: from the kill (KILLED_FILE, written by the test) to the end of the first call started
after it that succeeded, for submissions and case actions. One line with the figures, then PASS
or FAIL.

usage: redis_failover_clients.py GENERATED_DIR INTAKE FOLLOWUP KAFKA REGION_DIR LOAD_SECONDS RATE
                                 STARTED_FILE KILLED_FILE
"""
import collections
import os
import queue
import random
import sys
import threading
import time
import uuid

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
import grpc  # noqa: E402
from kafka_and_nhs import nhs_number, read_events  # noqa: E402
from referrals import loneliness_referral  # noqa: E402
from paced_load import run_at_rate  # noqa: E402
from task_feed import follow_tasks  # noqa: E402
from signpost.v1 import (followup_pb2, followup_service_pb2, followup_service_pb2_grpc,  # noqa: E402
                         intake_service_pb2, intake_service_pb2_grpc)

intake_addr, followup_addr, bootstrap, region_dir = sys.argv[2:6]
load_seconds, rate = float(sys.argv[6]), float(sys.argv[7])
started_file, killed_file = sys.argv[8:10]
practices = [l.strip() for l in open(f"{region_dir}/practices.txt") if l.strip()]
queues = [l.strip() for l in open(f"{region_dir}/queues.txt") if l.strip()]
postcodes = [l.split(",")[0] for l in open(f"{region_dir}/postcodes.csv").readlines()[1:]
             if " " in l.split(",")[0]]
rng = random.Random(11)
run = uuid.uuid4().hex[:8]
lock = threading.Lock()
stop = threading.Event()
RETRIED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
intake = intake_service_pb2_grpc.IntakeServiceStub(grpc.insecure_channel(intake_addr))
followup = followup_service_pb2_grpc.FollowUpServiceStub(grpc.insecure_channel(followup_addr))

calls = collections.defaultdict(list)  # kind -> (start, end, ok) of every call
retried_after_failure = collections.Counter()  # kind -> calls repeated after a failed attempt
failures_of = collections.defaultdict(list)  # what -> (time, code, details) of its failed attempts
refused = []


def call_until_answered(kind, what, fn):
    """fn() until it answers or fails with something other than unavailable; None on giving up."""
    deadline = time.time() + 90
    failed_before = False
    while time.time() < deadline:
        start = time.time()
        try:
            answer = fn()
            with lock:
                calls[kind].append((start, time.time(), True))
                if failed_before:
                    retried_after_failure[kind] += 1
            return answer
        except grpc.RpcError as error:
            with lock:
                calls[kind].append((start, time.time(), False))
                failures_of[what].append((start, error.code().name, error.details()))
            if error.code() not in RETRIED:
                with lock:
                    refused.append(f"{kind} {what}: {error.code().name} {error.details()}")
                return None
            failed_before = True
            time.sleep(0.1)
    return None


# --- link-worker apps: one contact attempt on each case whose first-contact task they see ------
jobs = queue.Queue()
seen_tasks = set()
acted = {}  # referral id -> queue, once the case action was acknowledged
action_given_up = []


def subscribe(q):
    def on_update(update):
        t = update.task
        if t.kind == followup_pb2.TASK_KIND_FIRST_CONTACT and \
                t.status == followup_pb2.TASK_STATUS_OPEN:
            with lock:
                if t.referral_id in seen_tasks:
                    return
                seen_tasks.add(t.referral_id)
            jobs.put((t.referral_id, q))

    follow_tasks([followup], q, stop, on_update, lambda reset: None, pause=0.2)


def record_contacts():
    while True:
        rid, q = jobs.get()
        # One id for this one contact attempt, sent again on every retry of it: a retry after an
        # answer lost past the commit (the primary killed mid-call) is then not a second attempt.
        request = followup_service_pb2.RecordContactRequest(
            link_worker_id=q, referral_id=rid, result=followup_pb2.CONTACT_RESULT_NO_ANSWER,
            note="rang, no answer", request_id=str(uuid.uuid4()))
        answer = call_until_answered("case action", rid,
                                     lambda: followup.RecordContact(request, timeout=5))
        with lock:
            if answer is None:
                action_given_up.append(rid)
            else:
                acted[rid] = q


for q in queues:
    threading.Thread(target=subscribe, args=(q,), daemon=True).start()
for _ in range(4):
    threading.Thread(target=record_contacts, daemon=True).start()

# --- the GP system ------------------------------------------------------------------------
acknowledged = {}  # source id -> referral id
submission_given_up = []


def submit(i):
    r = loneliness_referral("failover-gp", f"RF-{run}-{i}", rng.choice(practices),
                            nhs_number(rng), rng.choice(postcodes))
    answer = call_until_answered("submission", r.source_referral_id, lambda: intake.SubmitReferral(
        intake_service_pb2.SubmitReferralRequest(referral=r), timeout=5))
    with lock:
        if answer is None:
            submission_given_up.append(r.source_referral_id)
        else:
            acknowledged[r.source_referral_id] = answer.referral_id


with open(started_file, "w") as f:
    f.write(f"{time.time()}\n")
start = time.time()
submitted = run_at_rate(rate, load_seconds, submit)

# Drain: every acknowledged referral's case action answered, or give up after 90 s.
deadline = time.time() + 90
while time.time() < deadline:
    with lock:
        waiting = [rid for rid in acknowledged.values()
                   if rid not in acted and rid not in action_given_up]
    if not waiting:
        break
    time.sleep(0.5)
stop.set()

# --- the ledger -----------------------------------------------------------------------------
killed_at = float(open(killed_file).read()) if os.path.exists(killed_file) else None
received = collections.defaultdict(set)  # source id -> referral ids on the received topic
for e in read_events(bootstrap, "signpost.referral.received"):
    if e.HasField("referral_received"):
        received[e.referral_received.referral.source_referral_id].add(e.envelope.referral_id)

lost_submissions, duplicated_submissions = [], []
for source, rid in sorted(acknowledged.items()):
    got = call_until_answered("check", rid, lambda: intake.GetReferral(
        intake_service_pb2.GetReferralRequest(referral_id=rid), timeout=5))
    if got is None or rid not in received.get(source, ()):
        lost_submissions.append(source)
    if len(received.get(source, ())) > 1:
        duplicated_submissions.append(source)

lost_actions, duplicated_actions = [], []
for rid, q in sorted(acted.items()):
    case = call_until_answered("check", rid, lambda: followup.GetCase(
        followup_service_pb2.GetCaseRequest(link_worker_id=q, referral_id=rid,
                                            purpose="fault test ledger"), timeout=5))
    attempts = case.contact_attempts if case is not None else 0
    if attempts < 1:
        lost_actions.append(rid)
    elif attempts > 1:
        duplicated_actions.append(f"{rid} ({attempts})")


def recovery(kind):
    """Seconds from the kill to the end of the first call started after it that succeeded."""
    after = [end for begin, end, ok in calls[kind] if ok and begin >= killed_at]
    return f"{min(after) - killed_at:.1f} s" if after else "never"


def failed_calls(kind):
    return sum(1 for _, _, ok in calls[kind] if not ok)


kill_offset = f"{killed_at - start:.1f} s into the load" if killed_at else "no kill"
print(f"redis failover ledger: load {rate:g} submissions/s for {load_seconds:g} s plus a case "
      f"action per case; primary killed {kill_offset}; recovery (kill to first success) "
      f"submissions {recovery('submission')}, case actions {recovery('case action')}; "
      f"submissions {submitted} sent, {len(acknowledged)} acknowledged, lost "
      f"{len(lost_submissions)}, duplicated {len(duplicated_submissions)}; case actions "
      f"{len(acted)} acknowledged, lost {len(lost_actions)}, duplicated "
      f"{len(duplicated_actions)}; failed attempts retried: submissions "
      f"{failed_calls('submission')}, case actions {failed_calls('case action')}", flush=True)
for entry in duplicated_submissions + duplicated_actions:
    what = entry.split(" ")[0]
    for at, code, details in failures_of.get(what, []):
        print(f"  {what}: failed attempt {at - killed_at:+.3f} s from the kill: {code} {details}")
failures = []
if killed_at is None:
    failures.append("the primary was never killed")
if lost_submissions:
    failures.append(f"acknowledged submissions lost: {lost_submissions[:10]}")
if duplicated_submissions:
    failures.append(f"submissions received twice: {duplicated_submissions[:10]}")
if lost_actions:
    failures.append(f"acknowledged case actions lost: {lost_actions[:10]}")
if duplicated_actions:
    failures.append(f"case actions applied twice: {duplicated_actions[:10]}")
if submission_given_up or action_given_up:
    failures.append(f"given up: {len(submission_given_up)} submissions, {len(action_given_up)} "
                    "case actions (still unavailable after 90 s)")
if refused:
    failures.append(f"refused: {refused[:5]}")
missing = [rid for rid in acknowledged.values() if rid not in acted]
if missing:
    failures.append(f"{len(missing)} acknowledged referrals got no case action (no task seen)")
if killed_at and recovery("submission") == "never":
    failures.append("no submission succeeded after the kill")
if len(acknowledged) < submitted * 0.9:
    failures.append("fewer than 90% of the referrals were acknowledged")
if failures:
    sys.exit("FAIL: " + "; ".join(failures))
print("PASS")

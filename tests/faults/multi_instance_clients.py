#!/usr/bin/python3
"""Steady load and the ledger for the multi-instance fault scenario (multi_instance_fault_test.sh).

Two instances each of intake, matching and follow-up share one Kafka and one redis-server. The
outside clients here (grpcio, kcat, redis-cli) play every party:

- A GP system submits referrals at a steady rate, alternating between the two intakes; a call
  that fails as unavailable (or times out, or is refused as busy) is retried on the other intake
  with the same source referral id, as a real GP system would, for up to 150 s. A share of the
  referrals comes from the practices of the network with the fewest places (the "hot" network),
  enough to fill its link workers to their cap while the faults happen.
- Link-worker apps subscribe to every queue (each link worker's and each team queue), on either
  follow-up instance, switching instance and resuming with their last resume token whenever a
  stream breaks. A link worker records a first contact (reached) for every first-contact task
  that reaches their own queue; near their cap (as their own queue shows it) they close each case
  they contact as declined, so places are given back and taken again, raced for by both matching
  instances, while the hot network's workers stay at their cap. After an ambiguous failure the app reads the case first,
  so a contact or a closure is recorded once.

When the load has drained, the ledger is read from outside: the topics (kcat, from the
beginning), the apps' own view of their task streams, intake's status view (GetReferral) and the
caseloads in Redis. It requires, for every acknowledged referral:

- exactly once at each stage: received, matched, case opened, first-contact task published,
  first-contact task delivered live on the queue its match names (the worker's, or the network's
  team queue), contact recorded (worker queues), task done, case closed (those closed), and the
  referrer's ACCEPTED, ASSIGNED, FIRST_CONTACT (when contacted) and CLOSED (when closed) messages;
  "once" means one event id (and one idempotency key for the referrer's messages): an identical
  copy under the same id is a redelivery, counted and allowed;
- order: per referral on each topic, in the order the events first appear (what a consumer that
  de-duplicates by event id sees): case versions rising, a task open before it is done, the
  referrer's messages accepted, assigned, first contact, closed; across topics the causal links
  (matched caused by the received event and not before it, the case opened by the matched
  event); at the link-worker apps a task never open again after it is done and never delivered
  live twice; at intake's status view each state once, in order, ending where the case is;
- every event id names one content: all copies of an event id on a topic carry identical bytes;
- no link worker above their cap (the directory's max_active_cases) at any time: each worker's
  open cases counted through time, one up at their match (the matched event's time) and one down
  at their closure (the case event's time). Matching can only count a closure after it happened
  and decides an assignment before it stamps the match, so this count is never above matching's
  own; and matching's own caseloads in Redis, sampled twice a second and at the end;
- no referral put on the team queue ("every link worker in the network is at capacity") while a
  link worker of the network had room by matching's own count (below their cap in every Redis
  sample from 5 s before the match to 1 s after, with no match to them meanwhile).

Prints the ledger, then PASS, or FAIL with every reason (exit status 1).

usage: multi_instance_clients.py GENERATED_DIR INTAKE_A,INTAKE_B FOLLOWUP_A,FOLLOWUP_B KAFKA
                                 REGION_DIR REDIS_HOST:PORT LOAD_SECONDS RATE STARTED_FILE
"""
import collections
import os
import queue as queues
import random
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
import grpc  # noqa: E402
from kafka_and_nhs import nhs_number as test_nhs_number  # noqa: E402
from referrals import loneliness_referral  # noqa: E402
from task_feed import follow_tasks  # noqa: E402
from signpost.v1 import (events_pb2, followup_pb2, followup_service_pb2,  # noqa: E402
                         followup_service_pb2_grpc, intake_service_pb2,
                         intake_service_pb2_grpc, referral_pb2)

intake_addrs = sys.argv[2].split(",")
followup_addrs = sys.argv[3].split(",")
bootstrap, region_dir, redis_addr = sys.argv[4], sys.argv[5], sys.argv[6]
load_seconds, rate = float(sys.argv[7]), float(sys.argv[8])
started_file = sys.argv[9]

RETRIED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
           grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED)
GIVE_UP_SECONDS = 150
DRAIN_SECONDS = 150
CHANNEL_OPTIONS = [("grpc.max_reconnect_backoff_ms", 2000),
                   ("grpc.initial_reconnect_backoff_ms", 300)]
OPEN, DONE = followup_pb2.TASK_STATUS_OPEN, followup_pb2.TASK_STATUS_DONE
FIRST_CONTACT_TASK = followup_pb2.TASK_KIND_FIRST_CONTACT
FB = events_pb2
KIND_NAMES = {FB.FEEDBACK_KIND_ACCEPTED: "ACCEPTED", FB.FEEDBACK_KIND_ASSIGNED: "ASSIGNED",
              FB.FEEDBACK_KIND_FIRST_CONTACT: "FIRST_CONTACT", FB.FEEDBACK_KIND_CLOSED: "CLOSED"}
KIND_RANK = {FB.FEEDBACK_KIND_ACCEPTED: 0, FB.FEEDBACK_KIND_ASSIGNED: 1,
             FB.FEEDBACK_KIND_FIRST_CONTACT: 2, FB.FEEDBACK_KIND_CLOSED: 3}
LIFECYCLE_TOPICS = ["signpost.referral.received", "signpost.referral.rejected",
                    "signpost.referral.matched", "signpost.need.unmet",
                    "signpost.followup.events", "signpost.referrer.feedback",
                    "signpost.audit.access"]
RS = referral_pb2
STATUS_RANK = {RS.REFERRAL_STATE_RECEIVED: 0, RS.REFERRAL_STATE_MATCHED: 1,
               RS.REFERRAL_STATE_ASSIGNED: 2, RS.REFERRAL_STATE_IN_CONTACT: 3,
               RS.REFERRAL_STATE_CLOSED: 4}
# A link worker this near their cap closes the cases they contact.
CLOSE_WITHIN = 3

lock = threading.Lock()
stop = threading.Event()
run = uuid.uuid4().hex[:8]
rng = random.Random(22)


def log(text):
    print(text, flush=True)


# --- reading topics from outside -----------------------------------------------------------------
def read_records(topic):
    """Every record of `topic` from the beginning: (partition, offset, key, value, timestamp in
    ms) with key and value as bytes (None for null), each partition in its order."""
    out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e",
                          "-q", "-f", "%p %o %T %K %S %k%s"],
                         capture_output=True, check=True, timeout=300).stdout
    records, at = [], 0
    while at < len(out):
        fields = []
        for _ in range(5):
            end = out.index(b" ", at)
            fields.append(int(out[at:end]))
            at = end + 1
        partition, offset, timestamp, key_size, value_size = fields
        key = out[at:at + key_size] if key_size >= 0 else None
        at += max(key_size, 0)
        value = out[at:at + value_size] if value_size >= 0 else None
        at += max(value_size, 0)
        records.append((partition, offset, key, value, timestamp))
    records.sort(key=lambda r: (r[0], r[1]))
    return records


def read_events(topic):
    """(partition, offset, key, raw value, Event) of every record of `topic` that is an Event,
    the number that are not, and the longest an event waited from its time to its record's
    (seconds)."""
    events, unreadable, longest_wait = [], 0, 0.0
    for partition, offset, key, value, timestamp in read_records(topic):
        if value is None:
            continue
        try:
            e = events_pb2.Event.FromString(value)
        except Exception:
            unreadable += 1
            continue
        events.append((partition, offset, key, value, e))
        waited = timestamp / 1e3 - e.envelope.occurred_at.ToNanoseconds() / 1e9
        longest_wait = max(longest_wait, waited)
    return events, unreadable, longest_wait


# --- the region: practices, networks, link workers and their caps -----------------------------
practices = [l.strip() for l in open(f"{region_dir}/practices.txt") if l.strip()]
queue_names = [l.strip() for l in open(f"{region_dir}/queues.txt") if l.strip()]
postcodes = [l.split(",")[0] for l in open(f"{region_dir}/postcodes.csv").readlines()[1:]
             if " " in l.split(",")[0]]
workers, networks = {}, {}
for _, _, key, value, _ in read_records("signpost.directory.resources"):
    key = (key or b"").decode()
    if not (key.startswith("link-worker:") or key.startswith("network:")):
        continue
    name = key.split(":", 1)[1]
    if value is None:
        workers.pop(name, None)
        networks.pop(name, None)
        continue
    e = events_pb2.Event.FromString(value)
    if e.HasField("link_worker_upserted"):
        workers[name] = e.link_worker_upserted.link_worker
    elif e.HasField("network_upserted"):
        networks[name] = e.network_upserted.network
cap = {w.id: w.max_active_cases for w in workers.values()}
network_of_practice = {code: n.id for n in networks.values() for code in n.practice_ods_codes}
places = collections.Counter()
for w in workers.values():
    if w.available and w.max_active_cases > 0:
        places[w.network_id] += w.max_active_cases
served = [p for p in practices if p in network_of_practice]
if not workers or not places or not served:
    sys.exit(f"FAIL: the region's roster was not read from the directory topic "
             f"({len(workers)} link workers, {len(networks)} networks)")
hot = min(places, key=lambda n: (places[n], n))
hot_practices = [p for p in served if network_of_practice[p] == hot]
# Fill the hot network's places about a quarter into the load (when a matching instance is killed
# and restarted), then keep sending there, so the cap is tested under the faults.
hot_share = min(0.5, places[hot] / (0.3 * load_seconds) / rate)
log(f"region: {len(workers)} link workers in {len(networks)} networks, caps "
    f"{sorted(set(cap.values()))}; hot network {hot} ({places[hot]} places, "
    f"{hot_share:.0%} of the load from its {len(hot_practices)} practices)")

# --- matching's caseloads, sampled in Redis twice a second --------------------------------------
redis_host, redis_port = redis_addr.rsplit(":", 1)


def redis(*args):
    return subprocess.run(["redis-cli", "-h", redis_host, "-p", redis_port, "--raw", *args],
                          capture_output=True, text=True, timeout=60).stdout.split("\n")


CASELOAD_KEY = "signpost:roster:caseload:"
watched = sorted(w.id for w in workers.values() if w.available and w.max_active_cases > 0)
samples = collections.defaultdict(list)  # worker -> (nanoseconds, caseload in Redis)


def watch_caseloads():
    while not stop.is_set():
        at = time.time_ns()
        try:
            values = redis("MGET", *[CASELOAD_KEY + w for w in watched])
        except subprocess.TimeoutExpired:
            continue
        for w, value in zip(watched, values):
            if value.lstrip("-").isdigit():
                samples[w].append((at, int(value)))
        time.sleep(0.5)


watcher = threading.Thread(target=watch_caseloads, daemon=True)
watcher.start()

# --- link-worker apps --------------------------------------------------------------------------
followups = [followup_service_pb2_grpc.FollowUpServiceStub(
    grpc.insecure_channel(a, options=CHANNEL_OPTIONS)) for a in followup_addrs]
live = collections.Counter()        # (queue, task id, status) -> live deliveries
snapshot = collections.Counter()    # (queue, task id) -> times listed open in a snapshot
task_history = collections.defaultdict(list)  # (queue, task id) -> statuses in arrival order
queues_of = collections.defaultdict(set)      # referral id -> queues its first-contact task reached
app_regressions = []                # (queue, task id, history) where a done task came back open
drops = collections.Counter()       # queue -> streams that broke
token_resets = collections.Counter()  # queue -> resume tokens refused
contact_jobs = queues.Queue()
contact_requested = set()           # referral ids
contacted = {}                      # referral id -> queue that recorded the contact
closed = {}                         # referral id -> queue that closed the case (declined)
opened_on = collections.defaultdict(set)  # queue -> referral ids whose task it saw open
contact_refused = {}                # referral id -> error
contact_given_up = []
contact_retries = collections.Counter()


def on_update(q, update):
    t = update.task
    if t.kind != FIRST_CONTACT_TASK:
        return
    with lock:
        history = task_history[(q, t.id)]
        if t.status == OPEN and any(s != OPEN for s in history):
            app_regressions.append((q, t.id, list(history)))
        history.append(t.status)
        if update.snapshot:
            snapshot[(q, t.id)] += 1
        else:
            live[(q, t.id, t.status)] += 1
        if t.status == OPEN:
            queues_of[t.referral_id].add(q)
            opened_on[q].add(t.referral_id)
            if not q.startswith("team:") and t.referral_id not in contact_requested:
                contact_requested.add(t.referral_id)
                contact_jobs.put((t.referral_id, q))


def subscribe(q, which):
    def on_break(reset):
        with lock:
            drops[q] += 1
            if reset:
                token_resets[q] += 1

    # After a break, on the other follow-up instance.
    follow_tasks(followups, q, stop, lambda update: on_update(q, update), on_break, first=which)


def with_retries(rid, q, act, done_already):
    """Calls act(stub) on either follow-up instance until it answers; after an ambiguous failure
    it asks done_already(stub) first, so the action is recorded once. Returns the error of a
    refusal, "gave up", or None."""
    which, ambiguous = random.randrange(2), False
    deadline = time.time() + GIVE_UP_SECONDS
    while time.time() < deadline:
        try:
            if not (ambiguous and done_already(followups[which])):
                act(followups[which])
            return None
        except grpc.RpcError as error:
            if error.code() not in RETRIED:
                return f"{error.code().name}: {error.details()}"
            with lock:
                contact_retries[error.code().name] += 1
            ambiguous, which = True, 1 - which
            time.sleep(0.5)
    return "gave up"


def get_case(stub, rid, q):
    return stub.GetCase(followup_service_pb2.GetCaseRequest(link_worker_id=q, referral_id=rid),
                        timeout=5)


def record_contact():
    while True:
        rid, q = contact_jobs.get()
        # One request id per action, the same on every retry of it (on either instance).
        contact = followup_service_pb2.RecordContactRequest(
            link_worker_id=q, referral_id=rid, result=followup_pb2.CONTACT_RESULT_REACHED,
            note="called, spoke to the person", request_id=str(uuid.uuid4()))
        failed = with_retries(
            rid, q,
            lambda stub: stub.RecordContact(contact, timeout=5),
            lambda stub: get_case(stub, rid, q).reached)
        with lock:
            if failed == "gave up":
                contact_given_up.append(rid)
            elif failed:
                contact_refused[rid] = failed
            else:
                contacted[rid] = q
            open_now = len(opened_on[q]) - sum(1 for c in closed.values() if c == q)
            close = not failed and open_now >= cap.get(q, 0) - CLOSE_WITHIN
        if close:
            closing = followup_service_pb2.CloseCaseRequest(
                link_worker_id=q, referral_id=rid, reason=followup_pb2.CLOSURE_REASON_DECLINED,
                note="the person declined", request_id=str(uuid.uuid4()))
            failed = with_retries(
                rid, q,
                lambda stub: stub.CloseCase(closing, timeout=5),
                lambda stub: get_case(stub, rid, q).state == followup_pb2.CASE_STATE_DECLINED)
            with lock:
                if failed:
                    contact_refused[rid] = f"closing: {failed}"
                else:
                    closed[rid] = q
        contact_jobs.task_done()


for n, q in enumerate(queue_names):
    threading.Thread(target=subscribe, args=(q, n % 2), daemon=True).start()
for _ in range(4):
    threading.Thread(target=record_contact, daemon=True).start()

# --- the GP system -----------------------------------------------------------------------------
intakes = [intake_service_pb2_grpc.IntakeServiceStub(
    grpc.insecure_channel(a, options=CHANNEL_OPTIONS)) for a in intake_addrs]
acknowledged = {}             # source id -> referral id
answered_duplicate = 0        # acknowledged on a retry as the submission accepted before
refused = {}                  # source id -> error
given_up = []
submit_retries = collections.Counter()


def referral(i):
    practice = rng.choice(hot_practices if rng.random() < hot_share else served)
    return loneliness_referral("fault-gp", f"M-{run}-{i}", practice, test_nhs_number(rng),
                               rng.choice(postcodes))


def submit(r, which):
    global answered_duplicate
    request = intake_service_pb2.SubmitReferralRequest(referral=r)
    deadline = time.time() + GIVE_UP_SECONDS
    retried = False
    while time.time() < deadline:
        try:
            response = intakes[which].SubmitReferral(request, timeout=5)
            with lock:
                acknowledged[r.source_referral_id] = response.referral_id
                answered_duplicate += 1 if retried and response.duplicate else 0
            return
        except grpc.RpcError as error:
            if error.code() not in RETRIED:
                with lock:
                    refused[r.source_referral_id] = f"{error.code().name}: {error.details()}"
                return
            with lock:
                submit_retries[error.code().name] += 1
            retried, which = True, 1 - which  # the other intake, the same source id
            time.sleep(0.5)
    with lock:
        given_up.append(r.source_referral_id)


# Warm up: the load starts once a first referral has gone all the way to a link worker's app.
warm_up = referral("warm-up")
warm_up_started = time.time()
submit(warm_up, 0)
while time.time() - warm_up_started < 180:
    with lock:
        if queues_of.get(acknowledged.get(warm_up.source_referral_id)):
            break
    time.sleep(0.2)
else:
    sys.exit("FAIL: a first referral's task did not reach a link-worker app within 180 s")
log(f"warm-up: a first referral reached its link worker's app after "
    f"{time.time() - warm_up_started:.0f} s")
with open(started_file, "w") as f:
    f.write("load started\n")
log(f"load: {rate:g} referrals/s for {load_seconds:g} s over {len(intakes)} intakes, "
    f"{len(queue_names)} queues subscribed over {len(followups)} follow-up instances")
senders, sent = [], 0
start = time.time()
while time.time() - start < load_seconds:
    due = start + sent / rate
    if due > time.time():
        time.sleep(due - time.time())
    s = threading.Thread(target=submit, args=(referral(sent), sent % 2), daemon=True)
    s.start()
    senders.append(s)
    sent += 1
for s in senders:
    s.join()
submitted = sent + 1  # and the warm-up
log(f"load done after {time.time() - start:.0f} s: {submitted} submitted, "
    f"{len(acknowledged)} acknowledged")

# --- drain: every acknowledged referral's task delivered, contacts recorded, messages sent ------
ids = set(acknowledged.values())
drain_start = time.time()
deadline = drain_start + DRAIN_SECONDS
while time.time() < deadline:
    with lock:
        undelivered = [rid for rid in ids if not queues_of.get(rid)]
    if not undelivered and contact_jobs.unfinished_tasks == 0:
        break
    time.sleep(1)
while time.time() < deadline:  # the contacts' done tasks, first-contact and closed messages
    told = collections.defaultdict(set)  # kind -> referral ids the referrer was told of
    for _, _, _, _, e in read_events("signpost.referrer.feedback")[0]:
        told[e.referrer_feedback.kind].add(e.envelope.referral_id)
    with lock:
        waiting = [rid for rid in contacted
                   if rid not in told[FB.FEEDBACK_KIND_FIRST_CONTACT] or
                   live[(contacted[rid], f"{rid}/first-contact", DONE)] == 0]
        waiting += [rid for rid in closed if rid not in told[FB.FEEDBACK_KIND_CLOSED]]
    if not waiting:
        break
    time.sleep(3)
time.sleep(5)  # late redeliveries land too
stop.set()
watcher.join(timeout=120)
log(f"drained in {time.time() - drain_start:.0f} s")

# --- intake's status view ----------------------------------------------------------------------
with lock:
    expected_state = {rid: RS.REFERRAL_STATE_CLOSED if rid in closed
                      else RS.REFERRAL_STATE_IN_CONTACT if rid in contacted
                      else RS.REFERRAL_STATE_ASSIGNED for rid in ids}
    closed_now = dict(closed)
statuses = {}
deadline = time.time() + 60
pending = set(ids)
while pending and time.time() < deadline:
    for n, rid in enumerate(sorted(pending)):
        try:
            statuses[rid] = intakes[n % 2].GetReferral(
                intake_service_pb2.GetReferralRequest(referral_id=rid), timeout=5)
        except grpc.RpcError as error:
            statuses[rid] = error.code().name
    pending = {rid for rid in pending if isinstance(statuses[rid], str) or
               statuses[rid].state != expected_state[rid]}
    if pending:
        time.sleep(2)

# --- the topics --------------------------------------------------------------------------------
topic_events, unreadable, longest_wait = {}, {}, {}
for topic in LIFECYCLE_TOPICS:
    topic_events[topic], unreadable[topic], longest_wait[topic] = read_events(topic)
sid_of = {rid: sid for sid, rid in acknowledged.items()}
failures = []


# Every event id names one content: copies grouped by id, per topic.
def differing_fields(a, b, prefix=""):
    """The paths of the fields in which two messages differ, e.g. envelope.occurred_at.seconds."""
    fields = {f.name: f for f, _ in a.ListFields()}
    fields.update({f.name: f for f, _ in b.ListFields()})
    paths = []
    for name, field in sorted(fields.items()):
        x, y = getattr(a, name), getattr(b, name)
        if x == y:
            continue
        if field.message_type is not None and field.label != field.LABEL_REPEATED:
            paths += differing_fields(x, y, f"{prefix}{name}.")
        else:
            paths.append(prefix + name)
    return paths


copies = {}          # topic -> extra identical copies
differing = {}       # topic -> ids whose copies differ
examples = []
for topic, events in topic_events.items():
    by_id = collections.defaultdict(list)
    for _, _, _, value, e in events:
        by_id[e.envelope.event_id].append((value, e))
    copies[topic] = sum(len(v) - 1 for v in by_id.values())
    differing[topic] = [i for i, v in by_id.items() if len({value for value, _ in v}) > 1]
    how = collections.Counter()  # the fields that differ -> ids
    for event_id in differing[topic]:
        first = by_id[event_id][0]
        for value, other in by_id[event_id][1:]:
            if value != first[0]:
                how[", ".join(differing_fields(first[1], other))] += 1
                if topic.endswith(".matched") and len(examples) < 12:
                    a, b = first[1].referral_matched, other.referral_matched
                    if (a.link_worker_id, list(a.assignment_reasons)) != \
                            (b.link_worker_id, list(b.assignment_reasons)):
                        examples.append(
                            f"    {event_id} (referral {first[1].envelope.referral_id}): first "
                            f"{a.link_worker_id or 'team:' + a.network_id} "
                            f"{list(a.assignment_reasons)}, then "
                            f"{b.link_worker_id or 'team:' + b.network_id} "
                            f"{list(b.assignment_reasons)}")
    for fields, n in how.most_common(4):
        examples.append(f"  {topic}: {n} copies differ from the first in: {fields}")
examples.sort(key=lambda line: line.startswith("    "))
if any(line.startswith("    ") for line in examples):
    examples.insert(next(i for i, l in enumerate(examples) if l.startswith("    ")),
                    "  matched events republished under their id with another assignment:")


def first_appearances(events):
    """Per referral id, its distinct events in the order they first appear, and the number of
    copies that landed after a later distinct event of the same referral."""
    seen, order, stale = set(), collections.defaultdict(list), collections.Counter()
    for _, _, _, _, e in events:
        rid = e.envelope.referral_id
        if e.envelope.event_id in seen:
            if order[rid] and order[rid][-1].envelope.event_id != e.envelope.event_id:
                stale[rid] += 1
            continue
        seen.add(e.envelope.event_id)
        order[rid].append(e)
    return order, stale


order = {t: first_appearances(topic_events[t]) for t in LIFECYCLE_TOPICS}
stale_copies = {t: sum(order[t][1].values()) for t in LIFECYCLE_TOPICS}
received = order["signpost.referral.received"][0]
matched = order["signpost.referral.matched"][0]
case_topic = order["signpost.followup.events"][0]
feedback_topic = order["signpost.referrer.feedback"][0]

# Stage by stage: each acknowledged referral exactly once.
stage = collections.OrderedDict()
out_of_order = collections.defaultdict(list)


def count_stage(name, counts):
    """counts: referral id -> how many distinct events (or deliveries) it has at this stage."""
    missing = sorted(sid_of[r] for r in counts if counts[r] == 0)
    twice = sorted(sid_of[r] for r in counts if counts[r] > 1)
    stage[name] = (sum(1 for r in counts if counts[r] == 1), missing, twice)


rids_of_sid = collections.defaultdict(set)
for rid, evs in received.items():
    for e in evs:
        if e.HasField("referral_received"):
            rids_of_sid[e.referral_received.referral.source_referral_id].add(rid)
second_referrals = sorted(s for s in acknowledged if len(rids_of_sid.get(s, ())) > 1)
received_unacknowledged = sorted(s for s in rids_of_sid
                                 if s.startswith(f"M-{run}-") and s not in acknowledged)

count_stage("received", {r: sum(1 for e in received.get(r, []) if e.HasField("referral_received"))
                         for r in ids})
count_stage("matched", {r: len(matched.get(r, [])) for r in ids})
assigned_queue = {}
for r in ids:
    if matched.get(r):
        m = matched[r][0].referral_matched
        assigned_queue[r] = m.link_worker_id or f"team:{m.network_id}"


def case_events(r, version=None, to_state=None):
    return [e for e in case_topic.get(r, []) if e.HasField("case_event") and
            (version is None or e.case_event.case_version == version) and
            (to_state is None or e.case_event.to_state == to_state)]


def task_events(r, status):
    return [e for e in case_topic.get(r, []) if e.HasField("task_event") and
            e.task_event.task.kind == FIRST_CONTACT_TASK and e.task_event.task.status == status]


count_stage("case opened (follow-up, v1)", {r: len(case_events(r, 1)) for r in ids})
count_stage("first-contact task published", {r: len(task_events(r, OPEN)) for r in ids})
with lock:
    delivered = {r: live[(assigned_queue.get(r, ""), f"{r}/first-contact", OPEN)]
                 + (1 if snapshot[(assigned_queue.get(r, ""), f"{r}/first-contact")] and
                    not live[(assigned_queue.get(r, ""), f"{r}/first-contact", OPEN)] else 0)
                 for r in ids}
    misrouted = sorted(sid_of[r] for r in ids if queues_of.get(r, set()) - {assigned_queue.get(r)})
    live_twice = sorted(f"{q} {t} {followup_pb2.TaskStatus.Name(s)}"
                        for (q, t, s), n in live.items() if n > 1)
    contacted_now = dict(contacted)
count_stage("task delivered on its queue (apps)", delivered)
on_worker_queue = {r for r in ids if assigned_queue.get(r, "team:").split(":")[0] != "team"}
count_stage("contact recorded (case contacting)",
            {r: len(case_events(r, to_state=followup_pb2.CASE_STATE_CONTACTING))
             for r in on_worker_queue})
count_stage("first-contact task done", {r: len(task_events(r, DONE)) for r in on_worker_queue})
count_stage("case closed (declined)",
            {r: len(case_events(r, to_state=followup_pb2.CASE_STATE_DECLINED))
             for r in closed_now})
# The referrer's messages each referral should have had, and no others.
expected_kinds = {r: {FB.FEEDBACK_KIND_ACCEPTED, FB.FEEDBACK_KIND_ASSIGNED} for r in ids}
for r in on_worker_queue:
    expected_kinds[r].add(FB.FEEDBACK_KIND_FIRST_CONTACT)
for r in closed_now:
    expected_kinds[r].add(FB.FEEDBACK_KIND_CLOSED)
for kind, name in KIND_NAMES.items():
    per = {}
    for r in ids:
        if kind not in expected_kinds[r]:
            continue
        fb = [e.referrer_feedback for e in feedback_topic.get(r, [])
              if e.referrer_feedback.kind == kind]
        # Distinct event ids, and distinct idempotency keys: the GP files each key once.
        per[r] = max(len(fb), len({f.idempotency_key for f in fb}))
    count_stage(f"feedback {name}", per)
other_feedback = sorted(
    f"{sid_of.get(r, r)} {FB.FeedbackKind.Name(e.referrer_feedback.kind)}"
    for r in ids for e in feedback_topic.get(r, [])
    if e.referrer_feedback.kind not in expected_kinds[r])

# Order, as a consumer that de-duplicates by event id sees each topic, and across topics.
for r in ids:
    rec = [e for e in received.get(r, []) if e.HasField("referral_received")]
    for m in matched.get(r, [])[:1]:
        if rec and m.envelope.causation_id and m.envelope.causation_id != rec[0].envelope.event_id:
            out_of_order["matched not caused by the received event"].append(sid_of[r])
        if rec and m.envelope.occurred_at.ToNanoseconds() < rec[0].envelope.occurred_at.ToNanoseconds():
            out_of_order["matched before received"].append(sid_of[r])
        opened = case_events(r, 1)
        if opened and opened[0].envelope.causation_id != m.envelope.event_id:
            out_of_order["case not opened by the matched event"].append(sid_of[r])
    versions = [e.case_event.case_version for e in case_events(r)]
    if any(b <= a for a, b in zip(versions, versions[1:])):
        out_of_order["followup.events: case versions not rising"].append(f"{sid_of[r]} {versions}")
    tasks = collections.defaultdict(list)
    for e in case_topic.get(r, []):
        if e.HasField("task_event"):
            tasks[e.task_event.task.id].append(e.task_event.task.status)
    for task_id, seq in tasks.items():
        if seq[0] != OPEN or any(s == OPEN for s in seq[1:]) or len(set(seq)) != len(seq):
            out_of_order["followup.events: task statuses"].append(f"{task_id} {seq}")
    kinds = [KIND_RANK.get(e.referrer_feedback.kind, 9) for e in feedback_topic.get(r, [])]
    if any(b < a for a, b in zip(kinds, kinds[1:])):
        out_of_order["referrer.feedback: kinds"].append(f"{sid_of[r]} {kinds}")
with lock:
    for q, t, history in app_regressions:
        out_of_order["task open again at the app after done"].append(f"{q} {t} {history}")

# Intake's status view: each state once, in time order, ending where the case is.
status_problems = collections.defaultdict(list)
for r in ids:
    s = statuses.get(r)
    if s is None or isinstance(s, str):
        status_problems["not readable"].append(f"{sid_of[r]} {s}")
        continue
    if s.state != expected_state[r]:
        status_problems["state"].append(
            f"{sid_of[r]} {RS.ReferralState.Name(s.state)} (expected "
            f"{RS.ReferralState.Name(expected_state[r])})")
    event_ids = [h.event_id for h in s.history]
    states = [h.state for h in s.history]
    if len(set(event_ids)) != len(event_ids) or len(set(states)) != len(states):
        status_problems["a state or event twice in the history"].append(
            f"{sid_of[r]} {[RS.ReferralState.Name(x) for x in states]}")
    ranks = [STATUS_RANK.get(x, 9) for x in states]
    if ranks != sorted(ranks):
        out_of_order["intake status history"].append(
            f"{sid_of[r]} {[RS.ReferralState.Name(x) for x in states]}")

# Caseloads against the cap, through time: one up at a worker's match (its first publication),
# one down at the case's closure.
steps = collections.defaultdict(list)  # worker -> (nanoseconds, +1 or -1, referral id)
matched_to = {}
for r, evs in matched.items():
    m = evs[0]
    if m.referral_matched.link_worker_id:
        matched_to[r] = m.referral_matched.link_worker_id
        steps[matched_to[r]].append((m.envelope.occurred_at.ToNanoseconds(), 1, r))
for r, evs in case_topic.items():
    for e in evs:
        c = e.case_event if e.HasField("case_event") else None
        if c and c.to_state == followup_pb2.CASE_STATE_DECLINED and r in matched_to:
            steps[matched_to[r]].append((e.envelope.occurred_at.ToNanoseconds(), -1, r))
            break
highest = {}  # worker -> (highest open caseload, when)
for w, seq in steps.items():
    load, highest[w] = 0, (0, 0)
    for at, step, _ in sorted(seq, key=lambda x: (x[0], x[1])):
        load += step
        if load > highest[w][0]:
            highest[w] = (load, at)
by_case = collections.defaultdict(set)  # worker -> referral ids opened on their queue
for r, evs in case_topic.items():
    for e in evs:
        if e.HasField("case_event") and e.case_event.case_version == 1 and \
                e.case_event.link_worker_id:
            by_case[e.case_event.link_worker_id].add(r)
other_workers = sorted(f"{sid_of.get(r, r)}: matched to {w}, case opened for "
                       f"{[x for x, rs in by_case.items() if r in rs]}"
                       for w in steps for r in {x[2] for x in steps[w]}
                       if r not in by_case.get(w, set()))
by_redis = {}
for k in (k for k in redis("--scan", "--pattern", "signpost:roster:caseload:*") if k):
    value = redis("GET", k)[0]
    if value.lstrip("-").isdigit():
        by_redis[k.rsplit(":", 1)[1]] = int(value)
over_cap = []
sampled_highest = {w: max(v for _, v in seq) for w, seq in samples.items() if seq}
for source, loads in (("open cases through time", {w: h[0] for w, h in highest.items()}),
                      ("Redis caseloads sampled", sampled_highest),
                      ("Redis caseloads at the end", by_redis)):
    for w, n in sorted(loads.items()):
        if cap.get(w, 0) > 0 and n > cap[w]:
            over_cap.append(f"{w}: {n} open > cap {cap[w]} ({source})")
# Put on the team queue ("every link worker in the network is at capacity") while a worker of the
# network had room by matching's own count: their caseload in Redis below the cap in every
# sample from 5 s before the match to 1 s after it, and no match to them in that time.
matches_to = collections.defaultdict(list)  # worker -> match times
for r, w in matched_to.items():
    matches_to[w].append(matched[r][0].envelope.occurred_at.ToNanoseconds())
team_with_room = []
for r in ids:
    if not matched.get(r) or matched[r][0].referral_matched.link_worker_id:
        continue
    m = matched[r][0]
    at = m.envelope.occurred_at.ToNanoseconds()
    window = (at - 5 * 10**9, at + 10**9)
    for w in watched:
        if workers[w].network_id != m.referral_matched.network_id:
            continue
        seen = [v for t, v in samples.get(w, []) if window[0] <= t <= window[1]]
        if len(seen) >= 3 and max(seen) < cap[w] and \
                not any(window[0] <= t <= window[1] for t in matches_to[w]):
            team_with_room.append(f"{sid_of[r]}: {w} at {max(seen)}/{cap[w]}")
            break
hot_workers = sorted(w.id for w in workers.values() if w.network_id == hot)
team_hot = sum(1 for r in ids if assigned_queue.get(r) == f"team:{hot}")
hot_matches = collections.Counter(matched_to.values())

# --- the ledger --------------------------------------------------------------------------------
with lock:
    log("")
    log(f"== ledger (run {run})")
    log(f"GP: submitted {submitted}, acknowledged {len(acknowledged)}, refused {len(refused)}, "
        f"given up {len(given_up)}; retried calls {dict(submit_retries) or 0}, of which "
        f"{answered_duplicate} answered as the submission accepted before; received but never "
        f"acknowledged {len(received_unacknowledged)}; one submission received as two "
        f"referrals {len(second_referrals)}")
    log(f"{'stage':<38} {'once':>6} {'lost':>6} {'twice+':>7}")
    for name, (once, missing, twice) in stage.items():
        log(f"{name:<38} {once:>6} {len(missing):>6} {len(twice):>7}"
            + (f"   lost e.g. {missing[:3]}" if missing else "")
            + (f"   twice e.g. {twice[:3]}" if twice else ""))
    log(f"apps: first-contact tasks on another queue than their match {len(misrouted)}, "
        f"delivered live twice {len(live_twice)}; contacts recorded {len(contacted_now)}, "
        f"refused {len(contact_refused)}, given up {len(contact_given_up)}, retried calls "
        f"{dict(contact_retries) or 0}; streams broken {sum(drops.values())} times, resume "
        f"tokens refused {sum(token_resets.values())} times")
    log(f"referrer messages of another kind: {len(other_feedback)}")
    log("order (first appearances per referral and topic; causal links; apps; intake status): "
        + (", ".join(f"{k} {len(v)}" for k, v in out_of_order.items()) or "0 out of order"))
    log("intake status view: " + (", ".join(f"{k} {len(v)}" for k, v in status_problems.items())
                                  or f"{len(ids)} referrals, each state once, in order, as expected"))
    log("event ids: " + "; ".join(
        f"{t.removeprefix('signpost.')} {len(topic_events[t])} records, {copies[t]} identical "
        f"copies ({stale_copies[t]} after a later event), {len(differing[t])} ids with "
        f"different content" for t in LIFECYCLE_TOPICS if topic_events[t]))
    log("longest from an event's time to its record on the topic: " + ", ".join(
        f"{t.removeprefix('signpost.')} {w:.1f} s" for t, w in longest_wait.items()
        if topic_events[t]))
    for t, n in unreadable.items():
        if n:
            log(f"  {t}: {n} records that are not events")
    for line in examples:
        log(line)
    log(f"caseloads: cap {sorted(set(cap.values()))}; highest open caseload through time "
        f"{max((h[0] for h in highest.values()), default=0)}, in Redis sampled "
        f"{max(sampled_highest.values(), default='none found')} "
        f"({sum(len(v) for v in samples.values())} samples), in Redis at the end "
        f"{max(by_redis.values(), default='none found')}; cases closed (declined) "
        f"{len(closed_now)}; hot network {hot}: "
        + ", ".join(f"{w} matched {hot_matches[w]}, highest {highest.get(w, (0,))[0]}/{cap.get(w)}"
                    for w in hot_workers) + f"; team queue {team_hot}")
    log(f"cases opened for another worker than their match: {len(other_workers)}; put on the "
        f"team queue while a worker of the network had room: {len(team_with_room)}")

if len(acknowledged) < submitted * 0.5:
    failures.append("fewer than half the referrals were acknowledged: the load did not run")
if refused:
    failures.append(f"{len(refused)} valid referrals refused, e.g. {list(refused.items())[:3]}")
if given_up:
    failures.append(f"{len(given_up)} referrals never acknowledged after {GIVE_UP_SECONDS} s of "
                    f"retries, e.g. {given_up[:3]}")
if second_referrals:
    failures.append(f"{len(second_referrals)} submissions received as two referrals, e.g. "
                    f"{second_referrals[:3]}")
for name, (once, missing, twice) in stage.items():
    if missing:
        failures.append(f"{name}: {len(missing)} lost, e.g. {missing[:3]}")
    if twice:
        failures.append(f"{name}: {len(twice)} more than once, e.g. {twice[:3]}")
if misrouted:
    failures.append(f"{len(misrouted)} first-contact tasks reached another queue than their "
                    f"match's, e.g. {misrouted[:3]}")
if live_twice:
    failures.append(f"{len(live_twice)} task updates delivered live twice, e.g. {live_twice[:3]}")
if contact_refused or contact_given_up:
    failures.append(f"contacts refused {len(contact_refused)} (e.g. "
                    f"{list(contact_refused.items())[:2]}), given up {len(contact_given_up)}")
if other_feedback:
    failures.append(f"referrer messages of another kind: {other_feedback[:3]}")
for name, items in out_of_order.items():
    failures.append(f"out of order, {name}: {len(items)}, e.g. {items[:3]}")
for name, items in status_problems.items():
    failures.append(f"intake status view, {name}: {len(items)}, e.g. {items[:3]}")
for t in LIFECYCLE_TOPICS:
    if differing[t]:
        failures.append(f"{t}: {len(differing[t])} event ids published with different content")
if other_workers:
    failures.append(f"{len(other_workers)} cases opened for another worker than their match, "
                    f"e.g. {other_workers[:3]}")
if team_with_room:
    failures.append(f"{len(team_with_room)} referrals put on the team queue as if every link "
                    f"worker were at capacity while one had room, e.g. {team_with_room[:3]}")
if over_cap:
    failures.append(f"link workers above their cap: {over_cap[:6]}")
if failures:
    log("")
    for f in failures:
        log(f"FAIL: {f}")
    sys.exit(1)
log("PASS")

#!/usr/bin/python3
"""End to end: Signpost as tools/run starts it, driven only by clients that are not Signpost's.

- a GP system written with Python grpcio from the .proto files submits referrals (and a few
  invalid ones, refused at once with the field named);
- a GP integration engine puts FHIR bundles on signpost.referral.submitted with kcat (and a
  malformed and an invalid one, which must reach signpost.referral.rejected);
- link-worker apps (grpcio) subscribe to every queue of the region and work each case to its end;
- a GP system reads signpost.referrer.feedback with kcat.

Then the ledger: every accepted referral reached exactly one first-contact task and exactly one
closure message back to its referrer; rejected ones reached the rejected topic; the monitor's
counts agree.

usage: e2e_clients.py GENERATED_DIR ENDPOINTS_ENV REGION_DIR FHIR_TEMPLATE PLANTED_OUT
"""
import collections
import json
import os
import queue
import random
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
import grpc  # noqa: E402
from kafka_and_nhs import nhs_number as test_nhs_number, read_events  # noqa: E402
from grpc_errors import bad_request_fields  # noqa: E402
from signpost.v1 import (common_pb2, events_pb2, followup_pb2, followup_service_pb2,  # noqa: E402
                         followup_service_pb2_grpc, intake_service_pb2,
                         intake_service_pb2_grpc, referral_pb2)

env = dict(line.strip().split("=", 1) for line in open(sys.argv[2]) if "=" in line)


# As any outside client of a system tools/run started: TLS, trusting the CA it made.
def channel(address):
    if "TLS_CA" not in env:
        sys.exit("FAIL: tools/run wrote no TLS_CA: its listeners are plaintext")
    with open(env["TLS_CA"], "rb") as ca:
        return grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=ca.read()))


# Bearer tokens as a developer gets them: `signpostctl token`, signed with the key tools/run made.
if "TOKEN_SIGNING_KEY" not in env:
    sys.exit("FAIL: tools/run wrote no TOKEN_SIGNING_KEY: its services take calls without tokens")
tokens = {}


def token(role, *flags):
    key = (role,) + flags
    if key not in tokens:
        tokens[key] = subprocess.run(
            [os.environ["SIGNPOST_CTL"], "--endpoints", sys.argv[2], "token", "--role", role,
             *flags], check=True, capture_output=True, text=True).stdout.strip()
    return tokens[key]


def bearer(value):
    return [("authorization", f"Bearer {value}")]


def queue_owner(q):
    """The token of whoever works queue q: the network's coordinator for a team queue."""
    if q.startswith("team:"):
        return token("coordinator", "--sub", f"coordinator-{q[5:]}", "--network", q[5:])
    return token("link_worker", "--sub", q, "--network", "e2e-region")


https = ssl.create_default_context(cafile=env.get("TLS_CA"))
region_dir, fhir_template = sys.argv[3], sys.argv[4]
practices = [l.strip() for l in open(f"{region_dir}/practices.txt") if l.strip()]
queues = [l.strip() for l in open(f"{region_dir}/queues.txt") if l.strip()]
postcodes = [l.split(",")[0] for l in open(f"{region_dir}/postcodes.csv").readlines()[1:]
             if " " in l.split(",")[0]]
bootstrap = env["KAFKA_BOOTSTRAP"]
rng = random.Random(20261123)
run = uuid.uuid4().hex[:8]

GRPC_REFERRALS, FHIR_REFERRALS = 16, 6
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)


# Personal details this run plants, for the scan of the logs that follows (e2e_test.sh).
planted = set()


def nhs_number():
    return test_nhs_number(rng)


# --- link-worker apps ------------------------------------------------------------------------
followup = followup_service_pb2_grpc.FollowUpServiceStub(channel(env["FOLLOWUP_ADDR"]))
first_contact_tasks = collections.defaultdict(set)  # referral id -> first-contact task ids
closed_by_app = set()
lock = threading.Lock()
work = queue.Queue()
streams = []


def subscribe(q):
    call = followup.SubscribeTasks(followup_service_pb2.SubscribeTasksRequest(link_worker_id=q),
                                   metadata=bearer(queue_owner(q)))
    streams.append(call)
    try:
        for update in call:
            task = update.task
            if not task.id or task.status != followup_pb2.TASK_STATUS_OPEN:
                continue
            if task.kind == followup_pb2.TASK_KIND_FIRST_CONTACT:
                with lock:
                    new = task.id not in first_contact_tasks[task.referral_id]
                    first_contact_tasks[task.referral_id].add(task.id)
                if new:
                    work.put((q, task))
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.CANCELLED:
            check(False, f"subscription of {q} ended: {error.code()} {error.details()}")


cases_read = []  # (queue, referral id) of every GetCase, to find on the audit topic


def act(method, request):
    return method(request, timeout=10, metadata=bearer(queue_owner(request.link_worker_id)))


def journey(q, task):
    rid = task.referral_id
    act(followup.RecordContact, followup_service_pb2.RecordContactRequest(
        link_worker_id=q, referral_id=rid, result=followup_pb2.CONTACT_RESULT_REACHED,
        note="spoke on the phone"))  # this also completes the first-contact task
    act(followup.AgreePlan, followup_service_pb2.AgreePlanRequest(
        link_worker_id=q, referral_id=rid, plan="Meet people nearby; try a group"))
    baseline = followup_service_pb2.RecordOutcomeRequest(link_worker_id=q, referral_id=rid)
    baseline.measure.ons4.life_satisfaction, baseline.measure.ons4.worthwhile = 4, 5
    baseline.measure.ons4.happiness, baseline.measure.ons4.anxiety = 4, 6
    act(followup.RecordOutcome, baseline)
    case = act(followup.GetCase, followup_service_pb2.GetCaseRequest(link_worker_id=q,
                                                                      referral_id=rid))
    # Sealed on the bus, the person's details reach the link worker in clear, and only here.
    check(case.identity.given_name or case.identity.family_name,
          f"{rid}: GetCase gave {q} no name to call the person by")
    cases_read.append((q, rid))
    connected = False
    for option in [o for need in case.needs for o in need.options]:
        try:
            act(followup.RecordConnection, followup_service_pb2.RecordConnectionRequest(
                link_worker_id=q, referral_id=rid, resource_id=option.resource_id))
            connected = True
            break
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise
    if connected:
        act(followup.RecordAttendance, followup_service_pb2.RecordAttendanceRequest(
            link_worker_id=q, referral_id=rid, attended=True))
        later = followup_service_pb2.RecordOutcomeRequest(link_worker_id=q, referral_id=rid)
        later.measure.ons4.life_satisfaction, later.measure.ons4.worthwhile = 7, 7
        later.measure.ons4.happiness, later.measure.ons4.anxiety = 7, 3
        act(followup.RecordOutcome, later)
    act(followup.CloseCase, followup_service_pb2.CloseCaseRequest(
        link_worker_id=q, referral_id=rid,
        reason=(followup_pb2.CLOSURE_REASON_COMPLETED if connected
                else followup_pb2.CLOSURE_REASON_NO_SUITABLE_PROVISION)))
    with lock:
        closed_by_app.add(rid)


def app_worker():
    while True:
        item = work.get()
        if item is None:
            return
        try:
            journey(*item)
        except grpc.RpcError as error:
            check(False, f"working {item[1].referral_id} on {item[0]}: {error.code()} "
                         f"{error.details()}")


for q in queues:
    threading.Thread(target=subscribe, args=(q,), daemon=True).start()
workers = [threading.Thread(target=app_worker, daemon=True) for _ in range(4)]
for w in workers:
    w.start()

# --- GP system over gRPC ---------------------------------------------------------------------
intake = intake_service_pb2_grpc.IntakeServiceStub(channel(env["INTAKE_ADDR"]))
# One GP system's supplier, referring for every practice of the region.
gp = bearer(token("referrer", "--sub", "python-gp-e2e", "--ods", ",".join(practices)))


def make_referral(source_id):
    r = referral_pb2.Referral(source_system="python-gp-e2e", source_referral_id=source_id)
    r.referrer.ods_code = rng.choice(practices)
    r.referrer.role = referral_pb2.REFERRER_ROLE_GP
    r.identity.nhs_number = nhs_number()
    r.identity.given_name, r.identity.family_name = "Alexandrina", f"Planted{run}"
    r.identity.phone = "07700 900461"
    planted.update({r.identity.nhs_number, r.identity.family_name, r.identity.phone})
    r.identity.date_of_birth.year = rng.randrange(1940, 2000)
    r.identity.date_of_birth.month, r.identity.date_of_birth.day = 6, 15
    r.identity.postcode = rng.choice(postcodes)
    r.consent.referral_consent = r.consent.sharing_consent = True
    r.consent.recorded_at.GetCurrentTime()
    for category in rng.choice([[common_pb2.NEED_CATEGORY_LONELINESS],
                                [common_pb2.NEED_CATEGORY_MENTAL_WELLBEING,
                                 common_pb2.NEED_CATEGORY_PHYSICAL_ACTIVITY]]):
        r.needs.add(category=category)
    return r


accepted = {}  # source referral id -> referral id (gRPC); FHIR ones: source id -> None
sent = []
for i in range(GRPC_REFERRALS):
    source_id = f"PY-{run}-{i}"
    sent.append(make_referral(source_id))
    response = intake.SubmitReferral(
        intake_service_pb2.SubmitReferralRequest(referral=sent[-1]), timeout=30, metadata=gp)
    accepted[source_id] = response.referral_id
# The first one again, as a GP system retrying after a timeout: the same id, nothing new after.
again = intake.SubmitReferral(intake_service_pb2.SubmitReferralRequest(referral=sent[0]),
                              timeout=30, metadata=gp)
check(again.referral_id == accepted[f"PY-{run}-0"], "a resubmission got another referral id")
refused = 0
for i in range(2):
    bad = make_referral(f"PY-{run}-bad-{i}")
    bad.identity.nhs_number = bad.identity.nhs_number[:9] + str((int(bad.identity.nhs_number[9]) + 1) % 10)
    try:
        intake.SubmitReferral(intake_service_pb2.SubmitReferralRequest(referral=bad), timeout=30,
                              metadata=gp)
        check(False, "a referral with a wrong NHS number check digit was accepted")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.INVALID_ARGUMENT, f"bad NHS number: {error.code()}")
        fields = bad_request_fields(error)
        check("identity.nhs_number" in fields, f"violations name {fields}")
        refused += 1

# Callers the system must not let in: no token, another practice's system, another worker.
def refused_with(call, code, what):
    try:
        call()
        check(False, f"{what} was let through")
    except grpc.RpcError as error:
        check(error.code() == code, f"{what}: {error.code()} {error.details()}")
        check(f"Planted{run}" not in (error.details() or ""), f"{what}: the refusal names the person")


refused_with(lambda: intake.SubmitReferral(
    intake_service_pb2.SubmitReferralRequest(referral=make_referral(f"PY-{run}-anon")), timeout=30),
    grpc.StatusCode.UNAUTHENTICATED, "a submission without a token")
refused_with(lambda: intake.SubmitReferral(
    intake_service_pb2.SubmitReferralRequest(referral=make_referral(f"PY-{run}-other")), timeout=30,
    metadata=bearer(token("referrer", "--sub", "other-gp", "--ods", "Z99999"))),
    grpc.StatusCode.PERMISSION_DENIED, "a submission for a practice the token does not name")
worker_queues = [q for q in queues if not q.startswith("team:")]
refused_with(lambda: list(followup.SubscribeTasks(
    followup_service_pb2.SubscribeTasksRequest(link_worker_id=worker_queues[0]), timeout=10,
    metadata=bearer(queue_owner(worker_queues[1])))),
    grpc.StatusCode.PERMISSION_DENIED, "a link worker following another's queue")

# --- GP integration engine: FHIR bundles with kcat -------------------------------------------
template = json.load(open(fhir_template))
submitted = "signpost.referral.submitted"


def kcat_produce(key, value, content_type):
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", submitted, "-k", key,
                    "-H", f"content-type={content_type}"], input=value.encode(), check=True)


fhir_sources = []
for i in range(FHIR_REFERRALS + 1):
    bundle = json.loads(json.dumps(template))
    source_id = f"FHIR-{run}-{i}"
    for entry in bundle["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "ServiceRequest":
            res["identifier"][0]["value"] = source_id
            res["requester"]["identifier"]["value"] = rng.choice(practices)
        if res["resourceType"] == "Patient":
            number = nhs_number()
            if i == FHIR_REFERRALS:  # the invalid one
                number = number[:9] + str((int(number[9]) + 1) % 10)
            res["identifier"][0]["value"] = number
            res["name"][0]["family"] = f"Fhirplanted{run}"
            planted.update({number, f"Fhirplanted{run}"})
            res["address"][0]["postalCode"] = rng.choice(postcodes)
    kcat_produce(source_id, json.dumps(bundle), "application/fhir+json")
    if i < FHIR_REFERRALS:
        fhir_sources.append(source_id)
        accepted[source_id] = None
invalid_fhir = f"FHIR-{run}-{FHIR_REFERRALS}"
kcat_produce(f"FHIR-{run}-malformed", '{"resourceType": "Bundle", "entry": [', "application/fhir+json")


# --- GP system reading its feedback with kcat ------------------------------------------------
def read_topic(topic):
    return read_events(bootstrap, topic)


def feedback():
    kinds = collections.defaultdict(list)
    for event in read_topic("signpost.referrer.feedback"):
        f = event.referrer_feedback
        kinds[f.source_referral_id].append(events_pb2.FeedbackKind.Name(f.kind))
    return kinds


deadline = time.time() + 240
while time.time() < deadline:
    kinds = feedback()
    if all("FEEDBACK_KIND_CLOSED" in kinds.get(s, []) for s in accepted):
        break
    time.sleep(2)
time.sleep(3)  # anything sent twice would arrive by now
kinds = feedback()
for call in streams:
    call.cancel()
for _ in workers:
    work.put(None)

# --- the ledger ------------------------------------------------------------------------------
received = read_topic("signpost.referral.received")
referral_of = {e.referral_received.referral.source_referral_id: e.envelope.referral_id
               for e in received}
rejected = [e.referral_rejected for e in read_topic("signpost.referral.rejected")]
print(f"{'source referral':28} {'tasks':>5} {'ACCEPTED':>8} {'CLOSED':>6}")
for source_id in sorted(accepted):
    rid = referral_of.get(source_id, "")
    tasks = len(first_contact_tasks.get(rid, ()))
    closed = kinds[source_id].count("FEEDBACK_KIND_CLOSED")
    acks = kinds[source_id].count("FEEDBACK_KIND_ACCEPTED")
    print(f"{source_id:28} {tasks:5} {acks:8} {closed:6}")
    check(rid != "", f"{source_id}: never received")
    if accepted[source_id]:
        check(accepted[source_id] == rid, f"{source_id}: intake said {accepted[source_id]}")
    check(tasks == 1, f"{source_id}: {tasks} first-contact tasks")
    check(acks == 1, f"{source_id}: {acks} ACCEPTED messages")
    check(closed == 1, f"{source_id}: {closed} closure messages")
check(len(received) == len(accepted), f"{len(received)} received events for {len(accepted)} accepted")
# Every delivery of a person's details is on the audit topic, once, naming who and which fields.
audited = collections.Counter()
for e in read_topic("signpost.audit.access"):
    a = e.personal_data_access
    check("identity.given_name" in a.fields or "identity.family_name" in a.fields,
          f"audit record of {e.envelope.referral_id} names fields {list(a.fields)}")
    audited[(a.actor, e.envelope.referral_id)] += 1
check(len(cases_read) > 0, "no link worker read a case")
check(audited == collections.Counter(cases_read),
      f"{sum(audited.values())} audit records for {len(cases_read)} GetCase calls")
# Every refusal is on the rejected topic (the two refused over gRPC too, for the operators), and
# each one that says who sent it got exactly one REJECTED message back and nothing else.
rejected_sources = [r.source_referral_id for r in rejected]
invalid = [f"PY-{run}-bad-0", f"PY-{run}-bad-1", invalid_fhir]
for source_id in invalid:
    check(source_id in rejected_sources, f"{source_id} is not on the rejected topic")
    check(kinds[source_id] == ["FEEDBACK_KIND_REJECTED"], f"{source_id}'s feedback: {kinds[source_id]}")
check(len(rejected) == 4, f"{len(rejected)} rejected records (expected 2 refused over gRPC, the "
                          "invalid and the malformed bundle)")

# The monitor's counts agree with the ledger.
def monitor(path, as_role="ops"):
    request = urllib.request.Request(env["MONITOR_API_URL"].replace("/api/flows", path),
                                     headers={"Authorization": f"Bearer {token(as_role)}"})
    with urllib.request.urlopen(request, context=https) as response:
        return json.load(response)


# The monitor's figures are for operations staff alone, over HTTP as over gRPC.
try:
    monitor("/api/flows", as_role="directory_admin")
    check(False, "the monitor's API answered a directory admin")
except urllib.error.HTTPError as error:
    check(error.code == 403, f"the monitor's API refused a directory admin with {error.code}")


deadline = time.time() + 30
while True:
    flows = {t["topic"]: int(t["messagesTotal"]) for t in monitor("/api/flows")["topics"]}
    funnel = next(c for c in monitor("/api/equity")["cells"] if c["dimension"] == "all")
    agreed = (flows.get("signpost.referral.received") == len(accepted)
              and flows.get("signpost.referral.rejected") == 4
              and int(funnel["referred"]) == len(accepted)
              and int(funnel["closed"]) == len(accepted))
    if agreed or time.time() > deadline:
        break
    time.sleep(1)
print(f"monitor: received {flows.get('signpost.referral.received')}, rejected "
      f"{flows.get('signpost.referral.rejected')}, funnel referred {funnel['referred']} assigned "
      f"{funnel['assigned']} contacted {funnel['contacted']} closed {funnel['closed']}")
check(flows.get("signpost.referral.received") == len(accepted), "monitor's received count")
check(flows.get("signpost.referral.rejected") == 4, "monitor's rejected count")
for stage in ("referred", "assigned", "contacted", "closed"):
    check(int(funnel[stage]) == len(accepted), f"monitor's funnel: {stage} {funnel[stage]}")

print(f"ledger: submitted {len(accepted) + refused + 2} (gRPC {GRPC_REFERRALS} + {refused} refused, "
      f"FHIR {FHIR_REFERRALS} + 2 bad), accepted {len(accepted)}, tasks "
      f"{sum(len(first_contact_tasks.get(referral_of.get(s, ''), ())) for s in accepted)}, closed "
      f"{sum(kinds[s].count('FEEDBACK_KIND_CLOSED') for s in accepted)}, rejected {len(rejected)}, "
      f"lost {sum(1 for s in accepted if 'FEEDBACK_KIND_CLOSED' not in kinds[s])}")
with open(sys.argv[5], "w") as out:
    out.write("".join(f"{value}\n" for value in sorted(planted)))
if failures:
    sys.exit(f"{len(failures)} failures")
print("PASS")

#!/usr/bin/python3
"""The outside world of the link-worker app's browser test (caseload_test.sh), as the systems
around Signpost see it, over gRPC with TLS and bearer tokens (Debian's python3-grpcio) and kcat:

  seed                  the directory: networks pcn-a (practice B86001, link worker lw-a),
                        pcn-b (B86002, lw-b) and pcn-c (B86003, no link worker: its referrals
                        wait on team:pcn-c), and two loneliness groups near LS6 with one place
                        each; prints {"resources": [ids]} once matching offers both
  submit NETWORK        a GP system's referral from that network's practice (a, b or c), with
                        consent to share; prints the referral id
  wait-task RID         until follow-up lists an open task of RID on lw-a's queue (ListTasks):
                        prints its id
  take-place RES RID    lw-b reserves the last place at RES for RID (lw-b's referral), as another
                        link worker would
  audits RID            prints how many deliveries of RID's personal details were audited
  check RID BASE LATEST the GP's feedback for RID: ACCEPTED, ASSIGNED, FIRST_CONTACT, CONNECTED,
                        CLOSED in that order, CLOSED carrying the baseline and latest ONS4 scores
                        (each "life,worthwhile,happiness,anxiety"); exactly one audited delivery,
                        to lw-a with the purpose "First contact call"; exits 1 naming what differs

Where to reach things comes from the environment caseload_test.sh sets: CASELOAD_GEN (the Python
modules generated from proto/), CASELOAD_CA, CASELOAD_INTAKE, CASELOAD_MATCHING,
CASELOAD_FOLLOWUP, CASELOAD_BOOTSTRAP, CASELOAD_PREFIX, CASELOAD_CTL, CASELOAD_SIGNING_KEY.
"""
import json
import os
import random
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.environ["CASELOAD_GEN"])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
import grpc  # noqa: E402
from kafka_and_nhs import nhs_number, read_events  # noqa: E402
from signpost.v1 import (common_pb2, directory_service_pb2,  # noqa: E402
                         directory_service_pb2_grpc, events_pb2, followup_pb2, followup_service_pb2,
                         followup_service_pb2_grpc, intake_service_pb2, intake_service_pb2_grpc,
                         link_worker_pb2, referral_pb2, resource_pb2)

NETWORKS = {"a": ("pcn-a", "B86001", "lw-a"), "b": ("pcn-b", "B86002", "lw-b"),
            "c": ("pcn-c", "B86003", None)}
RESOURCES = [("caseload-lunch-club", "Headingley lunch club", 53.8170, -1.5690),
             ("caseload-walking-group", "Woodhouse Moor walking group", 53.8140, -1.5640)]
FEEDBACK_ORDER = ["FEEDBACK_KIND_ACCEPTED", "FEEDBACK_KIND_ASSIGNED",
                  "FEEDBACK_KIND_FIRST_CONTACT", "FEEDBACK_KIND_CONNECTED",
                  "FEEDBACK_KIND_CLOSED"]


def env(name):
    return os.environ["CASELOAD_" + name]


def channel(address):
    with open(env("CA"), "rb") as ca:
        return grpc.secure_channel(address,
                                   grpc.ssl_channel_credentials(root_certificates=ca.read()))


def token(role, *flags):
    return subprocess.run([env("CTL"), "--token-signing-key", env("SIGNING_KEY"), "token",
                           "--role", role, *flags, "--ttl-minutes", "60"],
                          check=True, capture_output=True, text=True).stdout.strip()


def bearer(value):
    return [("authorization", f"Bearer {value}")]


def worker_token(worker, network):
    return bearer(token("link_worker", "--sub", worker, "--network", network))


def wait_until(what, condition, seconds=60):
    deadline = time.time() + seconds
    while True:
        value = condition()
        if value or time.time() > deadline:
            if not value:
                sys.exit(f"FAIL: not within {seconds} s: {what}")
            return value
        time.sleep(0.2)


def seed():
    directory = directory_service_pb2_grpc.DirectoryServiceStub(channel(env("MATCHING")))
    admin = bearer(token("directory_admin"))
    for network, practice, worker in NETWORKS.values():
        directory.UpsertNetwork(link_worker_pb2.Network(id=network, practice_ods_codes=[practice]),
                                metadata=admin, timeout=30)
        if worker:
            directory.UpsertLinkWorker(link_worker_pb2.LinkWorker(
                id=worker, network_id=network, languages=["en"], max_active_cases=40,
                available=True), metadata=admin, timeout=30)
    for rid, name, lat, lon in RESOURCES:
        r = resource_pb2.Resource(id=rid, name=name, status=resource_pb2.RESOURCE_STATUS_ACTIVE,
                                  description=f"{name}: company and a cup of tea", free=True)
        r.need_categories.append(common_pb2.NEED_CATEGORY_LONELINESS)
        r.languages.append("en")
        r.delivery_modes.append(common_pb2.DELIVERY_MODE_IN_PERSON)
        r.capacity.places_total = 1
        r.capacity.places_available = 1
        r.capacity.waitlist_open = False
        location = r.locations.add(id=f"{rid}-hall", name=f"{name} hall",
                                   type=resource_pb2.LOCATION_TYPE_PHYSICAL, postcode="LS6 1BD")
        location.point.latitude = lat
        location.point.longitude = lon
        location.address_lines.extend(["1 Church Lane", "Leeds"])
        directory.UpsertResource(directory_service_pb2.UpsertResourceRequest(resource=r),
                                 metadata=admin, timeout=30)

    def offered():
        found = directory.SearchResources(directory_service_pb2.SearchResourcesRequest(
            postcode="LS6 1BD", needs=[common_pb2.NEED_CATEGORY_LONELINESS]), metadata=admin,
            timeout=30)
        ids = {o.resource_id for m in found.results for o in m.options}
        return ids >= {r[0] for r in RESOURCES}
    wait_until("matching offers both seeded resources near LS6 1BD", offered)
    print(json.dumps({"resources": [r[0] for r in RESOURCES]}))


def submit(letter):
    network, practice, _ = NETWORKS[letter]
    rng = random.Random()
    r = referral_pb2.Referral(source_system="caseload-gp-system",
                              source_referral_id="CASELOAD-" + uuid.uuid4().hex[:10])
    r.referrer.ods_code = practice
    r.referrer.role = referral_pb2.REFERRER_ROLE_PRACTICE_NURSE
    r.identity.nhs_number = nhs_number(rng)
    r.identity.given_name = "Nora"
    r.identity.family_name = "Batty"
    r.identity.phone = "0113 496 0000"
    r.identity.date_of_birth.year = 1948
    r.identity.date_of_birth.month = 3
    r.identity.date_of_birth.day = 14
    r.identity.postcode = "LS6 1BD"
    r.identity.address_lines.extend(["3 Cardigan Road", "Leeds"])
    r.consent.referral_consent = True
    r.consent.sharing_consent = True
    r.consent.recorded_at.GetCurrentTime()
    r.notes = "Prefers a call in the morning."
    need = r.needs.add()
    need.category = common_pb2.NEED_CATEGORY_LONELINESS
    need.description = "lives alone since a bereavement"
    intake = intake_service_pb2_grpc.IntakeServiceStub(channel(env("INTAKE")))
    reply = intake.SubmitReferral(
        intake_service_pb2.SubmitReferralRequest(referral=r), timeout=30,
        metadata=bearer(token("referrer", "--sub", "caseload-gp", "--ods", practice)))
    if not reply.referral_id or reply.duplicate:
        sys.exit(f"FAIL: the referral from {practice} ({network}) was not accepted: {reply}")
    print(reply.referral_id)


def wait_task(rid):
    followup = followup_service_pb2_grpc.FollowUpServiceStub(channel(env("FOLLOWUP")))
    who = worker_token("lw-a", "pcn-a")

    def task():
        listed = followup.ListTasks(followup_service_pb2.ListTasksRequest(), metadata=who,
                                    timeout=30)
        return [t.id for t in listed.tasks
                if t.referral_id == rid and t.status == followup_pb2.TASK_STATUS_OPEN]
    print(wait_until(f"an open task of {rid} on lw-a's queue", task)[0])


def take_place(resource_id, rid):
    directory = directory_service_pb2_grpc.DirectoryServiceStub(channel(env("MATCHING")))
    reply = directory.ReservePlace(directory_service_pb2.ReservePlaceRequest(
        resource_id=resource_id, referral_id=rid), metadata=worker_token("lw-b", "pcn-b"),
        timeout=30)
    left = reply.resource.capacity.places_available
    if left != 0:
        sys.exit(f"FAIL: {resource_id} has {left} places left after lw-b took one")
    print(f"lw-b took the last place at {resource_id} for {rid}")


def audited(rid):
    return [e.personal_data_access
            for e in read_events(env("BOOTSTRAP"), env("PREFIX") + "signpost.audit.access")
            if e.envelope.referral_id == rid and e.HasField("personal_data_access")]


def ons4(text):
    values = [int(v) for v in text.split(",")]
    return dict(zip(["life_satisfaction", "worthwhile", "happiness", "anxiety"], values))


def check(rid, baseline, latest):
    failures = []

    def feedback():
        return [e for e in read_events(env("BOOTSTRAP"),
                                       env("PREFIX") + "signpost.referrer.feedback")
                if e.envelope.referral_id == rid]

    def kinds_of():
        return [events_pb2.FeedbackKind.Name(e.referrer_feedback.kind)
                for e in feedback() if e.HasField("referrer_feedback")]
    deadline = time.time() + 60
    while True:
        kinds = kinds_of()
        if "FEEDBACK_KIND_CLOSED" in kinds or time.time() > deadline:
            break
        time.sleep(0.5)
    first_seen = list(dict.fromkeys(kinds))  # a message resent is filed once by the GP system
    if first_seen != FEEDBACK_ORDER:
        failures.append(f"the GP's feedback for {rid} is {first_seen}, expected {FEEDBACK_ORDER}")
    closed = [e.referrer_feedback for e in feedback()
              if e.referrer_feedback.kind == events_pb2.FEEDBACK_KIND_CLOSED]
    if closed:
        c = closed[0]
        for name, measure, expected in (("baseline", c.baseline, baseline),
                                        ("latest", c.latest, latest)):
            got = {k: getattr(measure.ons4, k) for k in ons4(expected)}
            if not measure.HasField("ons4") or got != ons4(expected):
                failures.append(f"CLOSED's {name} ONS4 is "
                                f"{got if measure.HasField('ons4') else None}, "
                                f"expected {ons4(expected)}")
        if c.closure_reason != followup_pb2.CLOSURE_REASON_COMPLETED:
            failures.append("CLOSED's reason is "
                            + followup_pb2.ClosureReason.Name(c.closure_reason))
    records = audited(rid)
    if len(records) != 1:
        failures.append(f"{len(records)} audited deliveries of {rid}'s details, expected "
                        f"exactly 1: {[(r.actor, r.rpc, r.purpose) for r in records]}")
    else:
        a = records[0]
        if (a.actor, a.subject, a.role, a.purpose) != ("lw-a", "lw-a", "link_worker",
                                                       "First contact call"):
            failures.append(f"the audit record: actor {a.actor!r}, subject {a.subject!r}, role "
                            f"{a.role!r}, purpose {a.purpose!r}")
        if "GetCase" not in a.rpc or "identity.phone" not in a.fields:
            failures.append(f"the audit record: rpc {a.rpc!r}, fields {list(a.fields)}")
    for f in failures:
        print("FAIL:", f, flush=True)
    if failures:
        sys.exit(1)
    print(f"{rid}: the GP was told {' '.join(k[14:] for k in first_seen)}; CLOSED carries "
          f"baseline {baseline} and latest {latest}; one audited delivery of the details")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "seed":
        seed()
    elif command == "submit":
        submit(args[0])
    elif command == "wait-task":
        wait_task(args[0])
    elif command == "take-place":
        take_place(args[0], args[1])
    elif command == "audits":
        print(len(audited(args[0])))
    elif command == "check":
        check(args[0], args[1], args[2])
    else:
        sys.exit(f"caseload_fixture.py: unknown command {command!r}")


main()

#!/usr/bin/python3
"""A referral from a practice no network lists, through real intake, matching, follow-up and the
monitor, as outside clients see it (Debian's python3-grpcio, kcat, plain HTTP, bearer tokens from
signpostctl):

- a GP system (referrer token for A81099) submits it, and it is accepted;
- the region's coordinator (coordinator token, network `unrouted`) subscribed to its own queue
  sees the first-contact task arrive on team:unrouted, and can open the case;
- a link worker and the coordinator of a network that exists see nothing of it;
- the matched event says why; the GP's ACCEPTED and ASSIGNED messages name the unrouted queue;
- the monitor counts it on /metrics and in /api/flows as waiting, until the coordinator
  reassigns it to a link worker, whose queue then has it;
- the directory refuses a network named `unrouted`.

usage: unrouted_referral_client.py GEN INTAKE MATCHING FOLLOWUP MONITOR_HTTP BOOTSTRAP PREFIX
                                   SIGNPOSTCTL SIGNING_KEY
"""
import json
import queue
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, __file__.rsplit("/", 1)[0])
import grpc  # noqa: E402
from grpc_errors import bad_request_fields  # noqa: E402
from kafka_and_nhs import read_events  # noqa: E402
from signpost.v1 import (common_pb2, directory_service_pb2_grpc, events_pb2,  # noqa: E402
                         followup_pb2, followup_service_pb2, followup_service_pb2_grpc,
                         intake_service_pb2, intake_service_pb2_grpc, link_worker_pb2,
                         referral_pb2)

(intake_addr, matching_addr, followup_addr, monitor_http, bootstrap, prefix, ctl,
 signing_key) = sys.argv[2:10]
UNLISTED = "A81099"  # a valid ODS code no network in the directory lists
LISTED = "A81001"
SOURCE_ID = "UNROUTED-" + uuid.uuid4().hex[:8]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)


def token(role, *flags):
    return subprocess.run([ctl, "--token-signing-key", signing_key, "token", "--role", role,
                           *flags], check=True, capture_output=True, text=True).stdout.strip()


def bearer(value):
    return [("authorization", f"Bearer {value}")]


def wait_until(what, condition, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    check(False, f"not within {seconds} s: {what}")
    return None


class Queue:
    """A link-worker app's subscription to the queue its token works: every update, in order."""

    def __init__(self, stub, who):
        self.updates = queue.Queue()
        self.tasks = []
        self.call = stub.SubscribeTasks(followup_service_pb2.SubscribeTasksRequest(),
                                        metadata=bearer(who))
        self.ended = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            for update in self.call:
                if update.task.id:
                    self.tasks.append(update.task)
                self.updates.put(update)
        except grpc.RpcError as error:
            self.ended = error

    def started(self):
        return wait_until("the snapshot end", lambda: any(
            u.snapshot_end for u in list(self.updates.queue)) or self.ended)

    def of(self, referral_id):
        return [t for t in self.tasks if t.referral_id == referral_id]


def referral(ods):
    r = referral_pb2.Referral(source_system="python-gp-system", source_referral_id=SOURCE_ID)
    r.referrer.ods_code = ods
    r.referrer.role = referral_pb2.REFERRER_ROLE_PRACTICE_NURSE
    r.identity.nhs_number = "9434765919"
    r.identity.given_name = "Sam"
    r.identity.family_name = "Patel"
    r.identity.date_of_birth.year = 1950
    r.identity.date_of_birth.month = 6
    r.identity.date_of_birth.day = 1
    r.identity.postcode = "LS6 1BD"
    r.consent.referral_consent = True
    r.consent.recorded_at.GetCurrentTime()
    need = r.needs.add()
    need.category = common_pb2.NEED_CATEGORY_LONELINESS
    need.description = "lives alone since a bereavement"
    return r


def monitor(path, as_token=None):
    request = urllib.request.Request(monitor_http + path, headers={
        "Authorization": f"Bearer {as_token}"} if as_token else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def metric(name):
    for line in monitor("/metrics").splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def main():
    directory = directory_service_pb2_grpc.DirectoryServiceStub(grpc.insecure_channel(matching_addr))
    admin = bearer(token("directory_admin"))
    directory.UpsertNetwork(link_worker_pb2.Network(id="pcn-north", practice_ods_codes=[LISTED]),
                            metadata=admin, timeout=30)
    directory.UpsertLinkWorker(link_worker_pb2.LinkWorker(
        id="lw-north", network_id="pcn-north", languages=["en"], max_active_cases=40,
        available=True), metadata=admin, timeout=30)
    # No real network may take the unrouted queue's name.
    try:
        directory.UpsertNetwork(link_worker_pb2.Network(id="unrouted", practice_ods_codes=["Z1"]),
                                metadata=admin, timeout=30)
        check(False, "the directory accepted a network named 'unrouted'")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.INVALID_ARGUMENT and
              bad_request_fields(error) == ["id"],
              f"a network named 'unrouted': {error.code()} {bad_request_fields(error)}")

    followup = followup_service_pb2_grpc.FollowUpServiceStub(grpc.insecure_channel(followup_addr))
    coordinator = token("coordinator", "--sub", "region-coordinator", "--network", "unrouted")
    worker = token("link_worker", "--sub", "lw-north", "--network", "pcn-north")
    north = token("coordinator", "--sub", "coordinator-north", "--network", "pcn-north")
    queues = {"coordinator": Queue(followup, coordinator), "lw-north": Queue(followup, worker),
              "pcn-north": Queue(followup, north)}
    for name, q in queues.items():
        check(q.started() and q.ended is None, f"{name}'s subscription: {q.ended}")

    intake = intake_service_pb2_grpc.IntakeServiceStub(grpc.insecure_channel(intake_addr))
    reply = intake.SubmitReferral(
        intake_service_pb2.SubmitReferralRequest(referral=referral(UNLISTED)), timeout=30,
        metadata=bearer(token("referrer", "--sub", "python-gp", "--ods", UNLISTED)))
    rid = reply.referral_id
    check(rid and not reply.duplicate, f"the referral was not accepted: {reply}")
    print(f"referral from {UNLISTED} accepted as {rid}", flush=True)

    # The region's coordinator sees its first-contact task on team:unrouted.
    tasks = wait_until("the first-contact task on the coordinator's queue (team:unrouted)",
                       lambda: queues["coordinator"].of(rid))
    if tasks:
        task = tasks[0]
        check(task.kind == followup_pb2.TASK_KIND_FIRST_CONTACT, f"task kind {task.kind}")
        check(task.network_id == "unrouted", f"task network '{task.network_id}'")
        check(UNLISTED in task.summary and "reassign" in task.summary,
              f"the task does not say what to do: {task.summary}")
    else:
        # Where it went instead, for the failure message.
        for name in ("unassigned",):
            try:
                elsewhere = followup.ListTasks(followup_service_pb2.ListTasksRequest(), timeout=30,
                                               metadata=bearer(token("coordinator", "--network",
                                                                     name)))
                print(f"  a coordinator token for network '{name}' lists "
                      f"{[(t.referral_id == rid, t.network_id) for t in elsewhere.tasks]}")
            except grpc.RpcError as error:
                print(f"  a coordinator token for network '{name}': {error.code()}")
    listed = followup.ListTasks(followup_service_pb2.ListTasksRequest(link_worker_id="team:unrouted"),
                                metadata=bearer(coordinator), timeout=30)
    check([t.referral_id for t in listed.tasks] == [rid], f"team:unrouted lists {listed.tasks}")
    try:
        case = followup.GetCase(followup_service_pb2.GetCaseRequest(referral_id=rid,
                                                                    purpose="routing"),
                                metadata=bearer(coordinator), timeout=30)
        check(case.referrer_ods_code == UNLISTED and case.identity.given_name == "Sam",
              f"the coordinator's GetCase: {case.referrer_ods_code} {case.identity.given_name}")
    except grpc.RpcError as error:
        check(False, f"the coordinator cannot open the case: {error.code()} {error.details()}")

    # Nobody of another network sees or opens it.
    for name, who in (("lw-north", worker), ("pcn-north", north)):
        check(not queues[name].of(rid), f"{name}'s queue has the unrouted referral")
        own = followup.ListTasks(followup_service_pb2.ListTasksRequest(), metadata=bearer(who),
                                 timeout=30)
        check(rid not in [t.referral_id for t in own.tasks], f"{name} lists the unrouted referral")
        try:
            followup.GetCase(followup_service_pb2.GetCaseRequest(referral_id=rid),
                             metadata=bearer(who), timeout=30)
            check(False, f"{name} opened the unrouted case")
        except grpc.RpcError as error:
            check(error.code() == grpc.StatusCode.PERMISSION_DENIED,
                  f"{name} opening the unrouted case: {error.code()}")

    # Why, as matching decided it, and what the GP is told.
    matched = wait_until("the matched event", lambda: [
        e for e in read_events(bootstrap, prefix + "signpost.referral.matched")
        if e.envelope.referral_id == rid])
    if matched:
        m = matched[0].referral_matched
        check(m.network_id == "unrouted" and not m.link_worker_id,
              f"matched to network '{m.network_id}', worker '{m.link_worker_id}'")
        check(f"no network serves the referring practice {UNLISTED}" in m.assignment_reasons,
              f"assignment reasons {list(m.assignment_reasons)}")
    feedback = wait_until("ACCEPTED and ASSIGNED back to the GP", lambda: {
        events_pb2.FeedbackKind.Name(e.referrer_feedback.kind): e.referrer_feedback.summary
        for e in read_events(bootstrap, prefix + "signpost.referrer.feedback")
        if e.referrer_feedback.source_referral_id == SOURCE_ID} or None)
    feedback = feedback or {}
    accepted = feedback.get("FEEDBACK_KIND_ACCEPTED", "")
    assigned = feedback.get("FEEDBACK_KIND_ASSIGNED", "")
    print(f"ACCEPTED: {accepted}\nASSIGNED: {assigned}", flush=True)
    check(f"no primary care network in Signpost lists practice {UNLISTED}" in accepted and
          "regional unrouted queue" in accepted and "coordinator will route it" in accepted,
          f"ACCEPTED does not say what happens next: {accepted!r}")
    check("regional unrouted queue" in assigned and "network :" not in assigned,
          f"ASSIGNED does not name the unrouted queue: {assigned!r}")

    # Operations see it waiting, on /metrics and in the API, until it is routed.
    ops = token("ops")
    wait_until("signpost_monitor_unrouted_referrals_total 1 on /metrics",
               lambda: metric("signpost_monitor_unrouted_referrals_total") == 1)
    wait_until("signpost_monitor_unrouted_referrals_waiting 1 on /metrics",
               lambda: metric("signpost_monitor_unrouted_referrals_waiting") == 1)
    flows = json.loads(monitor("/api/flows", ops))
    check(int(flows.get("unroutedReferrals", 0)) == 1 and int(flows.get("unroutedWaiting", 0)) == 1,
          f"/api/flows: unroutedReferrals {flows.get('unroutedReferrals')}, "
          f"unroutedWaiting {flows.get('unroutedWaiting')}")

    # The coordinator routes it to a link worker of the network that should have it.
    try:
        routed = followup.ReassignCase(followup_service_pb2.ReassignCaseRequest(
            referral_id=rid, to_link_worker_id="lw-north", reason="practice joins pcn-north"),
            metadata=bearer(coordinator), timeout=30)
        check(routed.link_worker_id == "lw-north", f"reassigned to '{routed.link_worker_id}'")
    except grpc.RpcError as error:
        check(False, f"the coordinator cannot reassign the case: {error.code()} {error.details()}")
    wait_until("the first-contact task on lw-north's queue", lambda: [
        t for t in queues["lw-north"].of(rid) if t.kind == followup_pb2.TASK_KIND_FIRST_CONTACT])
    wait_until("signpost_monitor_unrouted_referrals_waiting 0 once routed",
               lambda: metric("signpost_monitor_unrouted_referrals_waiting") == 0)
    flows = json.loads(monitor("/api/flows", ops))
    check(int(flows.get("unroutedReferrals", 0)) == 1 and int(flows.get("unroutedWaiting", 0)) == 0,
          f"/api/flows once routed: unroutedReferrals {flows.get('unroutedReferrals')}, "
          f"unroutedWaiting {flows.get('unroutedWaiting')}")

    for q in queues.values():
        q.call.cancel()
    if failures:
        sys.exit(f"FAIL: {len(failures)} checks failed")
    print("unrouted referral: accepted, on team:unrouted for the region's coordinator, told to the "
          "GP, counted by the monitor, routed to a link worker")


main()

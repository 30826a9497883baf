#!/usr/bin/python3
"""A GP system that speaks only FHIR over HTTPS to Signpost as tools/run started it.

It is written with Python `requests`, not with Signpost code:
- submits a plain UK Core referral message (BaRS-shaped) to POST /fhir/$process-message and
  reads the response message; sends it again and gets the same referral;
- a bad message gets an OperationOutcome naming each offending element; no token gets 401 and a
  token for another practice 403;
- reads the referral's Task (GET /fhir/Task?focus=ServiceRequest/<id>) through accepted ->
  in-progress -> completed while a link worker (a gRPC app) works the case;
- receives the message back on signpost.referrer.feedback with its SNOMED CT code and its FHIR
  form; a cancellation message withdraws a second referral and its Task says cancelled.

Every FHIR resource Signpost answers with is written to OUT_DIR, for HAPI FHIR's validator.

usage: fhir_gp_system.py GENERATED_DIR ENDPOINTS_ENV REGION_DIR MESSAGE_TEMPLATE
       CANCELLATION_TEMPLATE OUT_DIR PLANTED_OUT
"""
import json
import os
import random
import subprocess
import sys
import time
import uuid

import requests

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
import grpc  # noqa: E402
from kafka_and_nhs import nhs_number, read_events  # noqa: E402
from signpost.v1 import (events_pb2, followup_pb2, followup_service_pb2,  # noqa: E402
                         followup_service_pb2_grpc)

env = dict(line.strip().split("=", 1) for line in open(sys.argv[2]) if "=" in line)
region_dir, message_template, cancellation_template, out_dir = sys.argv[3:7]
planted_out = sys.argv[7]
os.makedirs(out_dir, exist_ok=True)
fhir = env["INTAKE_FHIR_URL"]
ca = env["TLS_CA"]
rng = random.Random()
run = uuid.uuid4().hex[:8]
practices = [l.strip() for l in open(f"{region_dir}/practices.txt") if l.strip()]
postcodes = [l.split(",")[0] for l in open(f"{region_dir}/postcodes.csv").readlines()[1:]
             if " " in l.split(",")[0]]
failures = []
planted = set()
saved = 0


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)
    return condition


def save(name, resource):
    """Keeps a resource Signpost answered with, for the validator."""
    global saved
    saved += 1
    with open(os.path.join(out_dir, f"{saved:03d}-{name}.json"), "w") as f:
        json.dump(resource, f, indent=1)


def token(role, *flags):
    return subprocess.run([os.environ["SIGNPOST_CTL"], "--endpoints", sys.argv[2], "token", "--role",
                           role, *flags], check=True, capture_output=True, text=True).stdout.strip()


practice = rng.choice(practices)
gp_token = token("referrer", "--sub", "fhir-gp-e2e", "--ods", practice)
other_token = token("referrer", "--sub", "other-gp", "--ods", "Z99999")
FHIR_JSON = "application/fhir+json"


def post_message(bundle, bearer=gp_token):
    headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    return requests.post(f"{fhir}/$process-message", data=json.dumps(bundle), headers=headers,
                         verify=ca, timeout=60)


def get(path, bearer=gp_token, **params):
    headers = {"Accept": FHIR_JSON}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    return requests.get(f"{fhir}/{path}", params=params, headers=headers, verify=ca, timeout=30)


def resources(bundle, kind):
    return [e["resource"] for e in bundle.get("entry", [])
            if e.get("resource", {}).get("resourceType") == kind]


def referral_message(template_path, source_id, nhs):
    bundle = json.load(open(template_path))
    bundle["id"] = str(uuid.uuid4())
    for res in (e["resource"] for e in bundle["entry"]):
        kind = res["resourceType"]
        if kind == "ServiceRequest":
            res["identifier"][0]["value"] = source_id
        if kind == "Patient":
            for ident in res["identifier"]:
                if ident.get("system") == "https://fhir.nhs.uk/Id/nhs-number":
                    ident["value"] = nhs
            res["name"][0]["family"] = f"Fhirgp{run}"
            if res.get("address"):
                res["address"][0]["postalCode"] = rng.choice(postcodes)
            planted.update({nhs, f"Fhirgp{run}"})
    # The referring practice (the template's B86001) is the token's.
    return json.loads(json.dumps(bundle).replace('"B86001"', json.dumps(practice)))


def referral_id_of(response_bundle):
    for res in (e["resource"] for e in response_bundle.get("entry", [])):
        for ident in res.get("identifier", []) if isinstance(res.get("identifier"), list) else []:
            if ident.get("system", "").endswith("referral-id"):
                return ident["value"]
    for res in resources(response_bundle, "ServiceRequest"):
        return res.get("id")
    return None


def operation_outcome_expressions(outcome):
    return [x for issue in outcome.get("issue", []) for x in issue.get("expression", [])]


# --- a referral over HTTPS -------------------------------------------------------------------
source_id = f"FHIR-HTTPS-{run}"
message = referral_message(message_template, source_id, nhs_number(rng))
answer = post_message(message)
check(answer.status_code == 200, f"POST $process-message: {answer.status_code} {answer.text[:400]}")
response = answer.json()
save("response-message", response)
header = response["entry"][0]["resource"]
check(header["resourceType"] == "MessageHeader", "the response's first entry is not its MessageHeader")
check(header.get("response", {}).get("code") == "ok", f"response code {header.get('response')}")
check(header.get("response", {}).get("identifier") == message["id"],
      "the response does not name the request message")
rid = referral_id_of(response)
check(bool(rid), "the response message carries no referral id")
print(f"submitted {source_id} over HTTPS: referral {rid}")

# Sent again, as an integration engine retrying after a timeout: the same referral.
again = post_message(message)
check(again.status_code == 200 and referral_id_of(again.json()) == rid,
      f"the same message again gave {again.status_code} {referral_id_of(again.json()) if again.ok else again.text[:200]}")

# A bad message: an OperationOutcome naming each offending element.
bad = referral_message(message_template, f"{source_id}-bad", nhs_number(rng))
for res in (e["resource"] for e in bad["entry"]):
    if res["resourceType"] == "Patient":
        for ident in res["identifier"]:
            if ident.get("system") == "https://fhir.nhs.uk/Id/nhs-number":
                ident["value"] = ident["value"][:9] + str((int(ident["value"][9]) + 1) % 10)
        res["birthDate"] = "2999-01-01"
answer = post_message(bad)
check(answer.status_code in (400, 422), f"a bad message got {answer.status_code}")
outcome = answer.json()
save("operation-outcome-invalid", outcome)
check(outcome.get("resourceType") == "OperationOutcome", "a bad message got no OperationOutcome")
named = operation_outcome_expressions(outcome)
print(f"bad message: {answer.status_code}, issues at {named}")
check(any("Patient" in x and "identifier" in x for x in named), f"the NHS number is not named: {named}")
check(any("birthDate" in x for x in named), f"the date of birth is not named: {named}")
check(f"Fhirgp{run}" not in answer.text, "the refusal repeats the person's name")

# Callers who may not: no token, another practice.
answer = post_message(referral_message(message_template, f"{source_id}-anon", nhs_number(rng)),
                      bearer=None)
check(answer.status_code == 401, f"no token: {answer.status_code}")
check(answer.headers.get("WWW-Authenticate", "").startswith("Bearer"), "401 without WWW-Authenticate")
save("operation-outcome-401", answer.json())
answer = post_message(referral_message(message_template, f"{source_id}-other", nhs_number(rng)),
                      bearer=other_token)
check(answer.status_code == 403, f"another practice's token: {answer.status_code}")
save("operation-outcome-403", answer.json())


# --- the Task, as a link worker works the case -----------------------------------------------
def task(expect=None, timeout=90):
    """The referral's Task by search; with `expect`, waits until its status is that."""
    deadline = time.time() + timeout
    while True:
        answer = get("Task", **{"focus": f"ServiceRequest/{rid}"})
        check(answer.status_code == 200, f"GET Task?focus: {answer.status_code} {answer.text[:300]}")
        bundle = answer.json()
        found = resources(bundle, "Task")
        if found and (expect is None or found[0]["status"] == expect):
            save(f"task-search-{found[0]['status']}", bundle)
            return found[0]
        if time.time() > deadline:
            check(False, f"the Task never became {expect}: {[t['status'] for t in found]}")
            return found[0] if found else {}
        time.sleep(0.5)


accepted = task("accepted")
owner = accepted.get("owner", {}).get("identifier", {}).get("value", "")
check(bool(owner), f"the accepted Task has no owner: {accepted.get('owner')}")
print(f"Task accepted, owner {owner}, business status {accepted.get('businessStatus', {}).get('text')}")
direct = get(f"Task/{rid}")
check(direct.status_code == 200 and direct.json().get("id") == rid, f"GET Task/{rid}: {direct.status_code}")
save("task-read", direct.json())
forbidden = get(f"Task/{rid}", bearer=other_token)
check(forbidden.status_code == 403, f"another practice reading the Task: {forbidden.status_code}")
save("operation-outcome-task-403", forbidden.json())
missing = get(f"Task/{uuid.uuid4()}")
check(missing.status_code == 404, f"an unknown Task: {missing.status_code}")
save("operation-outcome-task-404", missing.json())

# The link worker who owns it, through the gRPC API as their app does.
with open(ca, "rb") as f:
    channel = grpc.secure_channel(env["FOLLOWUP_ADDR"], grpc.ssl_channel_credentials(f.read()))
followup = followup_service_pb2_grpc.FollowUpServiceStub(channel)
worker = [("authorization", f"Bearer {token('link_worker', '--sub', owner, '--network', 'e2e-region')}")]


def act(method, request):
    return method(request, timeout=15, metadata=worker)


act(followup.RecordContact, followup_service_pb2.RecordContactRequest(
    link_worker_id=owner, referral_id=rid, result=followup_pb2.CONTACT_RESULT_REACHED,
    note="spoke on the phone", request_id=f"{run}-contact"))
in_progress = task("in-progress")
act(followup.AgreePlan, followup_service_pb2.AgreePlanRequest(
    link_worker_id=owner, referral_id=rid, plan="A walking group", request_id=f"{run}-plan"))
baseline = followup_service_pb2.RecordOutcomeRequest(link_worker_id=owner, referral_id=rid,
                                                     request_id=f"{run}-baseline")
baseline.measure.ons4.life_satisfaction, baseline.measure.ons4.worthwhile = 4, 5
baseline.measure.ons4.happiness, baseline.measure.ons4.anxiety = 4, 6
act(followup.RecordOutcome, baseline)
case = act(followup.GetCase, followup_service_pb2.GetCaseRequest(
    link_worker_id=owner, referral_id=rid, purpose="to call the person"))
connected = None
for option in [o for need in case.needs for o in need.options]:
    try:
        act(followup.RecordConnection, followup_service_pb2.RecordConnectionRequest(
            link_worker_id=owner, referral_id=rid, resource_id=option.resource_id,
            request_id=f"{run}-connect-{option.resource_id}"))
        connected = option.resource_id
        break
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
            raise
check(connected is not None, "no option could be connected")
if connected:
    with_output = task("in-progress")
    deadline = time.time() + 60
    while not with_output.get("output") and time.time() < deadline:
        time.sleep(0.5)
        with_output = task("in-progress")
    check(bool(with_output.get("output")), "the Task does not show the connection made")
    act(followup.RecordAttendance, followup_service_pb2.RecordAttendanceRequest(
        link_worker_id=owner, referral_id=rid, attended=True, request_id=f"{run}-attended"))
later = followup_service_pb2.RecordOutcomeRequest(link_worker_id=owner, referral_id=rid,
                                                  request_id=f"{run}-later")
later.measure.ons4.life_satisfaction, later.measure.ons4.worthwhile = 7, 7
later.measure.ons4.happiness, later.measure.ons4.anxiety = 7, 3
act(followup.RecordOutcome, later)
act(followup.CloseCase, followup_service_pb2.CloseCaseRequest(
    link_worker_id=owner, referral_id=rid, reason=followup_pb2.CLOSURE_REASON_COMPLETED,
    request_id=f"{run}-close"))
completed = task("completed")
print(f"Task: accepted -> {in_progress.get('status')} -> {completed.get('status')}")

# --- the message back ------------------------------------------------------------------------
bootstrap = env["KAFKA_BOOTSTRAP"]
deadline = time.time() + 90
while True:
    told = [e.referrer_feedback for e in read_events(bootstrap, "signpost.referrer.feedback")
            if e.referrer_feedback.source_referral_id == source_id]
    kinds = [events_pb2.FeedbackKind.Name(f.kind) for f in told]
    if "FEEDBACK_KIND_CLOSED" in kinds or time.time() > deadline:
        break
    time.sleep(1)
print(f"message back: {kinds}")
check(kinds[:1] == ["FEEDBACK_KIND_ACCEPTED"] and kinds[-1:] == ["FEEDBACK_KIND_CLOSED"],
      f"the messages back run {kinds}")
check(len(kinds) == len(set(kinds)), f"a step was told twice: {kinds}")
for f in told:
    kind = events_pb2.FeedbackKind.Name(f.kind)
    check(f.referrer_ods_code == practice, f"{kind} went to {f.referrer_ods_code}")
    if not check(f.fhir_message, f"{kind} carries no FHIR message"):
        continue
    bundle = json.loads(f.fhir_message)
    save(f"message-back-{kind[len('FEEDBACK_KIND_'):].lower()}", bundle)
    check(bundle["entry"][0]["resource"]["resourceType"] == "MessageHeader",
          f"{kind}: the FHIR message does not start with its MessageHeader")
    check(f"Fhirgp{run}" not in f.fhir_message, f"{kind}: the message back names the person")
accepted_back = next((f for f in told if f.kind == events_pb2.FEEDBACK_KIND_ACCEPTED), None)
check(accepted_back is not None and "871731000000106" in accepted_back.snomed_codes,
      "the ACCEPTED message back does not carry SNOMED CT 871731000000106")
closed_back = next((f for f in told if f.kind == events_pb2.FEEDBACK_KIND_CLOSED), None)
if check(closed_back is not None, "no CLOSED message back"):
    check(closed_back.latest.ons4.life_satisfaction == 7, "the closure does not carry the outcome")
    scores = json.dumps(json.loads(closed_back.fhir_message))
    check("Observation" in scores, "the FHIR closure message carries no outcome Observation")

# --- a cancellation --------------------------------------------------------------------------
cancel_source = f"FHIR-HTTPS-{run}-cancel"
cancel_nhs = nhs_number(rng)
second = referral_message(message_template, cancel_source, cancel_nhs)
answer = post_message(second)
check(answer.status_code == 200, f"the second referral: {answer.status_code} {answer.text[:300]}")
second_rid = referral_id_of(answer.json()) if answer.ok else None
cancellation = referral_message(cancellation_template, cancel_source, cancel_nhs)
answer = post_message(cancellation)
check(answer.status_code == 200, f"the cancellation: {answer.status_code} {answer.text[:300]}")
if answer.ok:
    save("response-message-cancellation", answer.json())
if second_rid:
    deadline = time.time() + 60
    while True:
        found = resources(get("Task", focus=f"ServiceRequest/{second_rid}").json(), "Task")
        if (found and found[0]["status"] == "cancelled") or time.time() > deadline:
            break
        time.sleep(0.5)
    check(bool(found) and found[0]["status"] == "cancelled",
          f"the cancelled referral's Task: {[t['status'] for t in found]}")
    if found:
        save("task-cancelled", found[0])
# Cancelled again: no longer active, so refused (BaRS: the receiver must not process it).
answer = post_message(cancellation)
check(answer.status_code >= 400, f"a second cancellation: {answer.status_code}")
if answer.status_code >= 400:
    save("operation-outcome-cancel-again", answer.json())

with open(planted_out, "a") as out:
    out.write("".join(f"{value}\n" for value in sorted(planted)))
print(f"FHIR resources kept for the validator: {saved} in {out_dir}")
if failures:
    sys.exit(f"{len(failures)} failures")
print("PASS")

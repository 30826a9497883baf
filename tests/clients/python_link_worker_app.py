#!/usr/bin/python3
"""A link-worker app written in Python (Debian's python3-grpcio) from Signpost's .proto files.

A GP-side event is put on signpost.referral.matched with kcat (as another system would); the app
subscribes to its worker's task queue, sees the first-contact task arrive, completes it, records
the contact and an ONS4 outcome, and checks that a bad answer is refused with the field named.
Each action carries a request id, the same on its retries: the contact sent twice counts once.

usage: python_link_worker_app.py GENERATED_DIR FOLLOWUP_ADDRESS KAFKA_BOOTSTRAP TOPIC_PREFIX
"""
import queue
import sys
import threading
import time
import uuid

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from grpc_errors import bad_request_fields  # noqa: E402
from kafka_and_nhs import new_event, publish_event  # noqa: E402
from signpost.v1 import (common_pb2, followup_pb2, followup_service_pb2,  # noqa: E402
                         followup_service_pb2_grpc, referral_pb2)

address, bootstrap, prefix = sys.argv[2], sys.argv[3], sys.argv[4]
WORKER = "lw-python"
REFERRAL = "py-" + uuid.uuid4().hex[:12]


def publish_match():
    event = new_event("referral.matched", REFERRAL)
    matched = event.referral_matched
    matched.referral.source_system = "python-gp-system"
    matched.referral.source_referral_id = "PY-1"
    matched.referral.referrer.ods_code = "A81001"
    matched.referral.identity.given_name = "Sam"
    need = matched.needs.add()
    need.need.category = common_pb2.NEED_CATEGORY_LONELINESS
    matched.link_worker_id = WORKER
    matched.network_id = "pcn-python"
    matched.priority = referral_pb2.URGENCY_ROUTINE
    publish_event(bootstrap, prefix + "signpost.referral.matched", REFERRAL, event)


def act(method, request):
    """A case action as a user makes it: one request id for it (kept if the request has one),
    sent again on each retry after UNAVAILABLE or a deadline, so a retry whose first answer was
    lost is not applied a second time."""
    if not request.request_id:
        request.request_id = str(uuid.uuid4())
    for attempt in range(5):
        try:
            return method(request, timeout=30)
        except grpc.RpcError as error:
            retryable = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
            if error.code() not in retryable or attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


def main():
    stub = followup_service_pb2_grpc.FollowUpServiceStub(grpc.insecure_channel(address))
    updates = queue.Queue()
    stream = stub.SubscribeTasks(followup_service_pb2.SubscribeTasksRequest(link_worker_id=WORKER))
    threading.Thread(target=lambda: [updates.put(u) for u in stream], daemon=True).start()

    def next_update(what):
        try:
            return updates.get(timeout=60)
        except queue.Empty:
            sys.exit("FAIL: no update while waiting for " + what)

    first = next_update("the snapshot end")
    if not first.snapshot_end:
        sys.exit("FAIL: an empty queue starts with the snapshot end, got %s" % first)
    publish_match()
    task_update = next_update("the first-contact task")
    task = task_update.task
    if task.referral_id != REFERRAL or task.kind != followup_pb2.TASK_KIND_FIRST_CONTACT:
        sys.exit("FAIL: expected the first-contact task of %s, got %s" % (REFERRAL, task))
    if not task_update.resume_token:
        sys.exit("FAIL: a live update carries a resume token")

    done = act(stub.CompleteTask, followup_service_pb2.CompleteTaskRequest(
        link_worker_id=WORKER, task_id=task.id, note="called, arranged a visit"))
    if done.status != followup_pb2.TASK_STATUS_DONE:
        sys.exit("FAIL: completed task is %s" % done)
    completed = next_update("the completed task on the stream")
    if completed.task.id != task.id or completed.task.status != followup_pb2.TASK_STATUS_DONE:
        sys.exit("FAIL: expected %s done on the stream, got %s" % (task.id, completed))

    contact = followup_service_pb2.RecordContactRequest(
        link_worker_id=WORKER, referral_id=REFERRAL, result=followup_pb2.CONTACT_RESULT_REACHED)
    case = act(stub.RecordContact, contact)
    if case.state != followup_pb2.CASE_STATE_CONTACTING:
        sys.exit("FAIL: after a contact the case is %s" % case.state)
    # The same request again, as a retry whose first answer was lost: applied once.
    case = stub.RecordContact(contact, timeout=30)
    if case.contact_attempts != 1:
        sys.exit("FAIL: a retry with the same request_id was applied again: %d contact attempts"
                 % case.contact_attempts)

    outcome = followup_service_pb2.RecordOutcomeRequest(link_worker_id=WORKER,
                                                        referral_id=REFERRAL,
                                                        request_id=str(uuid.uuid4()))
    outcome.measure.ons4.life_satisfaction = 4
    outcome.measure.ons4.worthwhile = 5
    outcome.measure.ons4.happiness = 3
    outcome.measure.ons4.anxiety = 11
    try:
        stub.RecordOutcome(outcome, timeout=30)
        sys.exit("FAIL: an anxiety score of 11 was accepted")
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
            sys.exit("FAIL: expected INVALID_ARGUMENT, got %s" % error.code())
        if bad_request_fields(error) != ["measure.ons4.anxiety"]:
            sys.exit("FAIL: expected the field measure.ons4.anxiety, got %s" %
                     bad_request_fields(error))
    outcome.measure.ons4.anxiety = 6
    case = act(stub.RecordOutcome, outcome)
    if not case.baseline.baseline or case.baseline.ons4.happiness != 3:
        sys.exit("FAIL: the first outcome is the baseline: %s" % case.baseline)

    try:
        stub.GetCase(followup_service_pb2.GetCaseRequest(link_worker_id="someone-else",
                                                         referral_id=REFERRAL), timeout=30)
        sys.exit("FAIL: another worker read the case")
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.PERMISSION_DENIED:
            sys.exit("FAIL: expected PERMISSION_DENIED, got %s" % error.code())
    stream.cancel()
    print("link-worker app: subscribed, completed a task, recorded contact and outcome")


main()

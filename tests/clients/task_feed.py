"""A link-worker app's task feed, as the Python test clients follow it.

The caller puts the generated Python modules (signpost.v1) on sys.path first.
"""
import time

import grpc


def follow_tasks(stubs, queue, stop, on_update, on_break, first=0, pause=0.5):
    """Follows `queue`'s SubscribeTasks until `stop` (a threading.Event) is set, as an app that
    never gives up: whenever the stream breaks it calls again with its last resume token, on the
    next of `stubs` (FollowUpService stubs of one or more follow-up instances, starting at index
    `first`) after `pause` seconds. A token the feed no longer reaches back to (INVALID_ARGUMENT)
    is dropped, so the next call starts from a fresh snapshot.

    on_update(update) is called for every update that carries a task; on_break(reset) after every
    stream that ended, reset telling whether its token was refused."""
    from signpost.v1 import followup_service_pb2
    token, which = "", first
    while not stop.is_set():
        call = stubs[which].SubscribeTasks(
            followup_service_pb2.SubscribeTasksRequest(link_worker_id=queue, resume_token=token))
        reset = False
        try:
            for update in call:
                if stop.is_set():
                    call.cancel()
                    break
                if update.resume_token:
                    token = update.resume_token
                if update.task.id:
                    on_update(update)
        except grpc.RpcError as error:
            if stop.is_set():
                break
            if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                token, reset = "", True
        on_break(reset)
        which = (which + 1) % len(stubs)
        time.sleep(pause)

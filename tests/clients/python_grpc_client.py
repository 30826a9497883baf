#!/usr/bin/python3
"""A GP system written in Python (Debian's python3-grpcio), built only from Signpost's .proto
files: it submits one referral with a bad NHS number and one good one, and checks what comes
back the way any gRPC client would (status code, google.rpc.BadRequest in the status details).

usage: python_grpc_client.py GENERATED_DIR INTAKE_ADDRESS
"""
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from grpc_errors import bad_request_fields  # noqa: E402
from signpost.v1 import common_pb2, intake_service_pb2, intake_service_pb2_grpc, referral_pb2  # noqa: E402


def referral(nhs_number, source_id):
    r = referral_pb2.Referral(source_system="python-gp-system", source_referral_id=source_id)
    r.referrer.ods_code = "A81001"
    r.referrer.role = referral_pb2.REFERRER_ROLE_PRACTICE_NURSE
    r.identity.nhs_number = nhs_number
    r.identity.given_name = "Sam"
    r.identity.family_name = "Patel"
    r.identity.date_of_birth.year, r.identity.date_of_birth.month, r.identity.date_of_birth.day = 1990, 6, 1
    r.identity.postcode = "M1 1AE"
    r.consent.referral_consent = True
    r.consent.recorded_at.GetCurrentTime()
    need = r.needs.add()
    need.category = common_pb2.NEED_CATEGORY_DEBT_AND_MONEY
    need.description = "rent arrears"
    return r


def main():
    stub = intake_service_pb2_grpc.IntakeServiceStub(grpc.insecure_channel(sys.argv[2]))
    try:
        stub.SubmitReferral(intake_service_pb2.SubmitReferralRequest(
            referral=referral("9434765918", "PY-BAD-1")), timeout=30)
        sys.exit("FAIL: a bad NHS number was accepted")
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
            sys.exit(f"FAIL: expected INVALID_ARGUMENT, got {error.code()}: {error.details()}")
        if "grpc-status-details-bin" not in dict(error.trailing_metadata()):
            sys.exit("FAIL: no grpc-status-details-bin trailer")
        fields = bad_request_fields(error)
        if fields != ["identity.nhs_number"]:
            sys.exit(f"FAIL: expected a violation of identity.nhs_number, got {fields}")
        print(f"bad NHS number: INVALID_ARGUMENT, field violations {fields}: {error.details()}")

    reply = stub.SubmitReferral(intake_service_pb2.SubmitReferralRequest(
        referral=referral("9434765919", "PY-GOOD-1")), timeout=30)
    if not reply.referral_id or reply.duplicate:
        sys.exit(f"FAIL: unexpected reply {reply}")
    print(f"good referral accepted as {reply.referral_id}")


if __name__ == "__main__":
    main()

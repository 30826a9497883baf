#!/usr/bin/python3
"""Submits N valid referrals to signpost-intake over gRPC, as a GP system would.

usage: submit_referrals.py GENERATED_DIR INTAKE_ADDRESS N
"""
import sys
import uuid

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from signpost.v1 import common_pb2, intake_service_pb2, intake_service_pb2_grpc, referral_pb2  # noqa: E402

stub = intake_service_pb2_grpc.IntakeServiceStub(grpc.insecure_channel(sys.argv[2]))
for i in range(int(sys.argv[3])):
    r = referral_pb2.Referral(source_system="browser-test-gp", source_referral_id=uuid.uuid4().hex)
    r.referrer.ods_code = "B86001"
    r.referrer.role = referral_pb2.REFERRER_ROLE_GP
    r.identity.nhs_number = "9434765919"
    r.identity.given_name = "Sam"
    r.identity.family_name = "Patel"
    r.identity.date_of_birth.year, r.identity.date_of_birth.month, r.identity.date_of_birth.day = 1950, 6, 1
    r.identity.postcode = "LS6 1BD"
    r.profile.imd_decile = 1 + i % 10
    r.profile.imd_edition = "IoD2025"
    r.consent.referral_consent = True
    r.consent.recorded_at.GetCurrentTime()
    r.needs.add(category=common_pb2.NEED_CATEGORY_LONELINESS, description="lives alone")
    stub.SubmitReferral(intake_service_pb2.SubmitReferralRequest(referral=r), timeout=30)
print("submitted", sys.argv[3])

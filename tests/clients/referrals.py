"""Referrals the Python load clients submit.

The caller puts the generated Python modules (signpost.v1) on sys.path first.
"""


def loneliness_referral(source_system, source_referral_id, ods_code, nhs_number, postcode):
    """A GP's referral of an adult (Sam Example, born 20 May 1960) for loneliness, with consent to
    the referral and to sharing recorded now."""
    from signpost.v1 import common_pb2, referral_pb2
    r = referral_pb2.Referral(source_system=source_system, source_referral_id=source_referral_id)
    r.referrer.ods_code = ods_code
    r.referrer.role = referral_pb2.REFERRER_ROLE_GP
    r.identity.nhs_number = nhs_number
    r.identity.given_name, r.identity.family_name = "Sam", "Example"
    r.identity.date_of_birth.year, r.identity.date_of_birth.month = 1960, 5
    r.identity.date_of_birth.day = 20
    r.identity.postcode = postcode
    r.consent.referral_consent = r.consent.sharing_consent = True
    r.consent.recorded_at.GetCurrentTime()
    r.needs.add(category=common_pb2.NEED_CATEGORY_LONELINESS)
    return r

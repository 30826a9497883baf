#pragma once

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "signpost/v1/referral.pb.h"

namespace signpost::intake::testing {

// The time tests are run "at".
inline absl::Time TestNow() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 21, 12, 0, 0), absl::UTCTimeZone());
}

// A complete, valid referral, the protobuf twin of data/referral_bundle.json.
inline v1::Referral ValidReferral() {
  v1::Referral r;
  r.set_source_system("emis-leeds-north");
  r.set_source_referral_id("EMIS-2026-000123");
  r.mutable_referrer()->set_ods_code("B86001");
  r.mutable_referrer()->set_role(v1::REFERRER_ROLE_GP);
  r.mutable_referrer()->set_name("Dr Amara Okafor");
  auto* id = r.mutable_identity();
  id->set_nhs_number("943 476 5919");
  id->set_given_name("Maria");
  id->set_family_name("Kowalska");
  id->mutable_date_of_birth()->set_year(1948);
  id->mutable_date_of_birth()->set_month(3);
  id->mutable_date_of_birth()->set_day(14);
  id->add_address_lines("12 Brudenell Road");
  id->add_address_lines("Hyde Park");
  id->set_postcode("ls6 1bd");
  id->set_phone("0113 496 0000");
  id->set_email("maria.k@example.org");
  auto* p = r.mutable_profile();
  p->set_sex(v1::SEX_FEMALE);
  p->set_ethnic_category(v1::ETHNIC_CATEGORY_WHITE_OTHER);
  p->set_preferred_language("pl");
  p->set_interpreter_required(true);
  p->add_inclusion_groups(v1::INCLUSION_GROUP_CARER);
  p->mutable_access_needs()->set_step_free(true);
  p->set_digitally_excluded(true);
  r.mutable_consent()->set_referral_consent(true);
  r.mutable_consent()->set_sharing_consent(true);
  r.mutable_consent()->mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilSecond(2026, 11, 20, 9, 25, 0), absl::UTCTimeZone())));
  auto* lonely = r.add_needs();
  lonely->set_category(v1::NEED_CATEGORY_LONELINESS);
  lonely->set_snomed_code("267076002");
  lonely->set_description("Lives alone since bereavement, rarely leaves the house");
  auto* carer = r.add_needs();
  carer->set_category(v1::NEED_CATEGORY_CARER_SUPPORT);
  carer->set_snomed_code("407542009");
  carer->set_description("Cares for her brother");
  auto* debt = r.add_needs();
  debt->set_category(v1::NEED_CATEGORY_DEBT_AND_MONEY);
  debt->set_description("Council tax arrears");
  r.set_urgency(v1::URGENCY_ROUTINE);
  r.set_notes("Prefers a morning call.");
  r.mutable_referred_at()->set_seconds(absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilSecond(2026, 11, 20, 9, 30, 0), absl::UTCTimeZone())));
  return r;
}

}  // namespace signpost::intake::testing

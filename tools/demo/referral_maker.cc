#include "tools/demo/referral_maker.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace signpost::demo {
namespace {

struct Weighted {
  int value;
  int weight;
};

template <size_t N>
int Pick(std::mt19937_64& rng, const std::array<Weighted, N>& table) {
  int total = 0;
  for (const auto& w : table) total += w.weight;
  int at = static_cast<int>(rng() % static_cast<uint64_t>(total));
  for (const auto& w : table) {
    if (at < w.weight) return w.value;
    at -= w.weight;
  }
  return table.back().value;
}

constexpr std::array<Weighted, 18> kNeeds = {{
    {v1::NEED_CATEGORY_LONELINESS, 24},
    {v1::NEED_CATEGORY_MENTAL_WELLBEING, 20},
    {v1::NEED_CATEGORY_DEBT_AND_MONEY, 11},
    {v1::NEED_CATEGORY_PHYSICAL_ACTIVITY, 9},
    {v1::NEED_CATEGORY_LONG_TERM_CONDITION, 8},
    {v1::NEED_CATEGORY_CARER_SUPPORT, 6},
    {v1::NEED_CATEGORY_HOUSING, 6},
    {v1::NEED_CATEGORY_BEREAVEMENT, 4},
    {v1::NEED_CATEGORY_EMPLOYMENT, 3},
    {v1::NEED_CATEGORY_ARTS_AND_CREATIVITY, 2},
    {v1::NEED_CATEGORY_GARDENING_AND_NATURE, 2},
    {v1::NEED_CATEGORY_FOOD_AND_NUTRITION, 2},
    {v1::NEED_CATEGORY_PRACTICAL_SUPPORT, 2},
    {v1::NEED_CATEGORY_DIGITAL_SKILLS, 1},
    {v1::NEED_CATEGORY_LEGAL_ADVICE, 1},
    {v1::NEED_CATEGORY_LANGUAGE_AND_LEARNING, 1},
    {v1::NEED_CATEGORY_SUBSTANCE_USE, 1},
    {v1::NEED_CATEGORY_DOMESTIC_ABUSE, 1},
}};

// Age bands of people referred: most are older adults, a fifth under 35.
constexpr std::array<Weighted, 6> kAgeFrom = {
    {{16, 5}, {25, 12}, {35, 15}, {50, 22}, {65, 26}, {80, 20}}};

constexpr std::array<Weighted, 9> kEthnicity = {{
    {v1::ETHNIC_CATEGORY_WHITE_BRITISH, 70},
    {v1::ETHNIC_CATEGORY_WHITE_OTHER, 6},
    {v1::ETHNIC_CATEGORY_ASIAN_PAKISTANI, 6},
    {v1::ETHNIC_CATEGORY_ASIAN_INDIAN, 4},
    {v1::ETHNIC_CATEGORY_ASIAN_BANGLADESHI, 3},
    {v1::ETHNIC_CATEGORY_MIXED_WHITE_BLACK_CARIBBEAN, 3},
    {v1::ETHNIC_CATEGORY_ASIAN_OTHER, 2},
    {v1::ETHNIC_CATEGORY_MIXED_OTHER, 2},
    {v1::ETHNIC_CATEGORY_UNSPECIFIED, 4},
}};

const char* kGiven[] = {"Amira",  "Brian", "Chloe", "Dariusz", "Eileen", "Farah",    "George",
                        "Hannah", "Imran", "Joan",  "Kofi",    "Linda",  "Mohammed", "Nora"};
const char* kFamily[] = {"Ahmed",   "Brown", "Clarke", "Davies",   "Evans", "Fletcher", "Green",
                         "Hussain", "Iqbal", "Jones",  "Kowalski", "Lewis", "Mistry",   "Nowak"};

}  // namespace

ReferralMaker::ReferralMaker(const region::Region& region, uint64_t seed)
    : region_(region), rng_(seed), seed_(seed) {
  std::vector<double> people;
  for (size_t i = 0; i < region.postcodes.size(); ++i) {
    if (region.postcodes[i].postcode.find(' ') == std::string::npos) continue;  // a district
    homes_.push_back(i);
    people.push_back(region.postcodes[i].weight);
  }
  // A region without weights (all 0): every postcode alike.
  if (std::all_of(people.begin(), people.end(), [](double w) { return w <= 0; })) {
    std::fill(people.begin(), people.end(), 1.0);
  }
  pick_home_ = std::discrete_distribution<size_t>(people.begin(), people.end());
}

std::string ReferralMaker::NhsNumber() {
  while (true) {
    std::string digits = absl::StrFormat("999%06d", static_cast<int>(rng_() % 1000000));
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (digits[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    if (check == 11) check = 0;
    if (check == 10) continue;  // no valid number with these nine digits
    return absl::StrCat(digits, check);
  }
}

v1::Referral ReferralMaker::Make(const std::string& source_system, absl::Time now) {
  v1::Referral r;
  r.set_source_system(source_system);
  r.set_source_referral_id(absl::StrFormat("%s-%x-%06d", source_system, seed_ & 0xffffff,
                                           static_cast<int>(++sequence_)));
  r.mutable_referrer()->set_ods_code(
      region_.practice_ods_codes[rng_() % region_.practice_ods_codes.size()]);
  r.mutable_referrer()->set_role(rng_() % 5 == 0 ? v1::REFERRER_ROLE_PRACTICE_NURSE
                                                 : v1::REFERRER_ROLE_GP);
  r.mutable_referrer()->set_name("Dr A Example");

  const region::PostcodeRow* home = &region_.postcodes[homes_[pick_home_(rng_)]];
  const int from = Pick(rng_, kAgeFrom);
  const int age = from + static_cast<int>(rng_() % (from >= 80 ? 15 : from == 16 ? 9 : 15));
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  const absl::CivilDay born = today - (age * 365 + 30 + static_cast<int>(rng_() % 300));

  auto* id = r.mutable_identity();
  id->set_nhs_number(NhsNumber());
  id->set_given_name(kGiven[rng_() % std::size(kGiven)]);
  id->set_family_name(kFamily[rng_() % std::size(kFamily)]);
  id->mutable_date_of_birth()->set_year(static_cast<int>(born.year()));
  id->mutable_date_of_birth()->set_month(born.month());
  id->mutable_date_of_birth()->set_day(born.day());
  id->add_address_lines(absl::StrCat(1 + rng_() % 120, " Demo Street"));
  id->set_postcode(home->postcode);
  id->set_phone(
      absl::StrFormat("07700 900%03d", static_cast<int>(rng_() % 1000)));  // Ofcom's drama range

  auto* p = r.mutable_profile();
  p->set_sex(rng_() % 100 < 58 ? v1::SEX_FEMALE : v1::SEX_MALE);
  p->set_ethnic_category(static_cast<v1::EthnicCategory>(Pick(rng_, kEthnicity)));
  const bool south_asian = p->ethnic_category() == v1::ETHNIC_CATEGORY_ASIAN_PAKISTANI ||
                           p->ethnic_category() == v1::ETHNIC_CATEGORY_ASIAN_BANGLADESHI ||
                           p->ethnic_category() == v1::ETHNIC_CATEGORY_ASIAN_INDIAN;
  if (south_asian && rng_() % 3 == 0) {
    const char* kLanguages[] = {"ur", "bn", "pa", "gu"};
    p->set_preferred_language(kLanguages[rng_() % 4]);
    p->set_interpreter_required(rng_() % 2 == 0);
  } else if (p->ethnic_category() == v1::ETHNIC_CATEGORY_WHITE_OTHER && rng_() % 3 == 0) {
    p->set_preferred_language("pl");
  } else {
    p->set_preferred_language("en");
  }
  p->set_communication_mode(rng_() % 4 == 0 ? v1::COMMUNICATION_MODE_TEXT
                                            : v1::COMMUNICATION_MODE_PHONE);
  p->mutable_access_needs()->set_step_free(age >= 65 ? rng_() % 4 == 0 : rng_() % 15 == 0);
  p->mutable_access_needs()->set_hearing_loop(age >= 75 && rng_() % 5 == 0);
  p->set_transport_barrier(rng_() % 6 == 0);
  p->set_digitally_excluded(age >= 75 ? rng_() % 2 == 0 : rng_() % 10 == 0);
  p->set_disability(rng_() % 5 == 0);
  p->set_housing(rng_() % 20 == 0 ? v1::HOUSING_SITUATION_AT_RISK : v1::HOUSING_SITUATION_SETTLED);
  if (rng_() % 8 == 0) p->add_inclusion_groups(v1::INCLUSION_GROUP_CARER);
  if (age >= 25 && rng_() % 25 == 0) p->add_inclusion_groups(v1::INCLUSION_GROUP_VETERAN);
  if (age < 25) p->add_inclusion_groups(v1::INCLUSION_GROUP_YOUNG_PERSON);

  r.mutable_consent()->set_referral_consent(true);
  r.mutable_consent()->set_sharing_consent(rng_() % 4 != 0);
  r.mutable_consent()->mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(now) - 60);
  r.mutable_consent()->set_recorded_by("GP");

  const int needs = rng_() % 10 < 6 ? 1 : rng_() % 10 < 7 ? 2 : 3;
  for (int n = 0; n < needs; ++n) {
    v1::NeedCategory category = static_cast<v1::NeedCategory>(Pick(rng_, kNeeds));
    bool seen = false;
    for (const auto& existing : r.needs()) seen = seen || existing.category() == category;
    if (seen) continue;
    if (category == v1::NEED_CATEGORY_CARER_SUPPORT &&
        p->inclusion_groups().end() == std::find(p->inclusion_groups().begin(),
                                                 p->inclusion_groups().end(),
                                                 v1::INCLUSION_GROUP_CARER)) {
      p->add_inclusion_groups(v1::INCLUSION_GROUP_CARER);
    }
    r.add_needs()->set_category(category);
  }
  r.set_urgency(rng_() % 10 == 0 ? v1::URGENCY_PRIORITY : v1::URGENCY_ROUTINE);
  r.mutable_referred_at()->set_seconds(absl::ToUnixSeconds(now));
  return r;
}

v1::Referral ReferralMaker::MakeFaulty(const std::string& source_system, absl::Time now) {
  v1::Referral r = Make(source_system, now);
  if (rng_() % 2 == 0) {
    std::string nhs = r.identity().nhs_number();
    nhs[9] = static_cast<char>('0' + (nhs[9] - '0' + 1) % 10);  // a mistyped check digit
    r.mutable_identity()->set_nhs_number(nhs);
  } else {
    r.mutable_consent()->set_referral_consent(false);
  }
  return r;
}

}  // namespace signpost::demo

// signpostctl submit | referral get | referral withdraw
#include <google/protobuf/util/json_util.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "services/intake/fhir_referral.h"
#include "signpost/v1/intake_service.grpc.pb.h"
#include "tools/ctl/commands.h"

namespace signpost::ctl {
namespace {

struct SubmitArgs {
  std::string file;
  bool fhir = false;
  int synthetic = 0;
  std::string ods = "A81001";
};

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A valid referral with made-up details, for trying the system out.
v1::Referral Synthetic(std::mt19937_64& rng, const std::string& ods) {
  static const char* kPostcodes[] = {"LS1 1AB", "LS6 1BD", "LS7 3PD", "LS11 5DA", "LS9 8AA"};
  v1::Referral r;
  r.set_source_system("signpostctl");
  r.set_source_referral_id(absl::StrCat("ctl-", rng()));
  r.mutable_referrer()->set_ods_code(ods);
  r.mutable_referrer()->set_role(v1::REFERRER_ROLE_GP);
  auto* id = r.mutable_identity();
  id->set_nhs_number("9434765919");  // a valid number from the NHS's test range
  id->set_given_name("Test");
  id->set_family_name("Person");
  id->mutable_date_of_birth()->set_year(1940 + static_cast<int>(rng() % 60));
  id->mutable_date_of_birth()->set_month(1 + static_cast<int>(rng() % 12));
  id->mutable_date_of_birth()->set_day(1 + static_cast<int>(rng() % 28));
  id->set_postcode(kPostcodes[rng() % 5]);
  r.mutable_consent()->set_referral_consent(true);
  r.mutable_consent()->set_sharing_consent(rng() % 3 != 0);
  r.mutable_consent()->mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  int needs = 1 + static_cast<int>(rng() % 2);
  for (int n = 0; n < needs; ++n) {
    auto* need = r.add_needs();
    need->set_category(static_cast<v1::NeedCategory>(1 + rng() % 18));
    need->set_description("synthetic");
  }
  return r;
}

int Submit(CtlContext& ctx, const SubmitArgs& args) {
  auto stub = v1::IntakeService::NewStub(ctx.Channel(ctx.intake, "intake"));
  std::vector<v1::Referral> referrals;
  if (!args.file.empty()) {
    auto text = ReadFile(args.file);
    if (!text.ok()) return Report(text.status(), "submit");
    v1::Referral r;
    if (args.fhir) {
      auto parsed = intake::ReferralFromFhirBundle(*text);
      if (!parsed.ok()) return Report(parsed.status(), absl::StrCat("reading ", args.file));
      r = *parsed;
    } else if (auto s = google::protobuf::util::JsonStringToMessage(*text, &r); !s.ok()) {
      std::fprintf(stderr, "signpostctl: %s is not a signpost.v1.Referral in JSON: %s\n",
                   args.file.c_str(), s.ToString().c_str());
      return kFailed;
    }
    referrals.push_back(r);
  }
  std::mt19937_64 rng(std::random_device{}());
  for (int i = 0; i < args.synthetic; ++i) referrals.push_back(Synthetic(rng, args.ods));
  if (referrals.empty()) {
    std::fprintf(stderr, "signpostctl submit: give --file F (JSON), --fhir F, or --synthetic N\n");
    return kUsage;
  }
  int failures = 0;
  for (const auto& referral : referrals) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ctx.Authorise(context,
                  {auth::Role::kReferrer, "signpostctl", {referral.referrer().ods_code()}, ""});
    v1::SubmitReferralRequest request;
    *request.mutable_referral() = referral;
    v1::SubmitReferralResponse response;
    grpc::Status status = stub->SubmitReferral(&context, request, &response);
    if (!status.ok()) {
      int code = Report(status, absl::StrCat("submitting ", referral.source_referral_id()));
      if (code == kUnavailable) return code;
      ++failures;
      continue;
    }
    PrintJson(response);
  }
  return failures == 0 ? kOk : kFailed;
}

}  // namespace

void AddReferralCommands(CLI::App& app, CtlContext& ctx, int& exit_code) {
  auto args = std::make_shared<SubmitArgs>();
  CLI::App* submit = app.add_subcommand("submit", "Submit referrals to intake (gRPC)");
  submit->add_option("--file", args->file,
                     "A signpost.v1.Referral in JSON, or with --fhir a FHIR R4 Bundle");
  submit->add_flag("--fhir", args->fhir, "--file is a FHIR R4 Bundle (JSON)");
  submit->add_option("--synthetic", args->synthetic, "Also submit N made-up referrals")
      ->check(CLI::Range(0, 100000));
  submit->add_option("--ods", args->ods, "Referring practice of the synthetic referrals")
      ->capture_default_str();
  submit->callback([&ctx, &exit_code, args] { exit_code = Submit(ctx, *args); });

  CLI::App* referral = app.add_subcommand("referral", "A referral's state")->require_subcommand(1);
  auto id = std::make_shared<std::string>();
  auto ods = std::make_shared<std::string>("A81001");
  CLI::App* get = referral->add_subcommand("get", "State and history of a referral");
  get->add_option("referral_id", *id, "The id intake gave")->required();
  get->add_option("--ods", *ods, "Development token: the referring organisation asking")
      ->capture_default_str();
  get->callback([&ctx, &exit_code, id, ods] {
    auto stub = v1::IntakeService::NewStub(ctx.Channel(ctx.intake, "intake"));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.Authorise(context, {auth::Role::kReferrer, "signpostctl", {*ods}, ""});
    v1::GetReferralRequest request;
    request.set_referral_id(*id);
    v1::GetReferralResponse response;
    grpc::Status status = stub->GetReferral(&context, request, &response);
    if (!status.ok()) {
      exit_code = Report(status, "referral get");
      return;
    }
    PrintJson(response);
  });
}

}  // namespace signpost::ctl

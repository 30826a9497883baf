#include "common/fhir/operation_outcome.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/status/field_violations.h"

namespace signpost::fhir {
namespace {

using nlohmann::json;

TEST(OperationOutcomeTest, OneIssuePerViolationNamingItsElement) {
  absl::Status status =
      InvalidArgumentWithViolations({{"identity.nhs_number", "check digit does not match"},
                                     {"needs", "at least one need is required"},
                                     {"Bundle.entry[Patient]", "missing"}});
  json outcome = OperationOutcomeOf(status, 422, [](absl::string_view field) {
    return field == "identity.nhs_number" ? std::string("Bundle.entry[2].resource.identifier[0]")
                                          : std::string(field);
  });
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
  ASSERT_EQ(outcome["issue"].size(), 3u);
  const json& first = outcome["issue"][0];
  EXPECT_EQ(first["severity"], "error");
  EXPECT_EQ(first["code"], "value");
  EXPECT_EQ(first["diagnostics"], "identity.nhs_number: check digit does not match");
  EXPECT_EQ(first["expression"], json::array({"Bundle.entry[2].resource.identifier[0]"}));
  EXPECT_EQ(first["details"]["coding"][0]["system"],
            "https://fhir.nhs.uk/Codesystem/http-error-codes");
  EXPECT_EQ(first["details"]["coding"][0]["code"], "REC_UNPROCESSABLE_ENTITY");
  EXPECT_EQ(outcome["issue"][1]["code"], "required");
  EXPECT_EQ(outcome["issue"][1]["expression"], json::array({"needs"}));
  EXPECT_EQ(outcome["issue"][2]["code"], "required");
}

TEST(OperationOutcomeTest, AViolationWithoutAFieldHasNoExpression) {
  json outcome = OperationOutcomeOf(InvalidArgumentWithViolations({{"", "not valid JSON"}}), 400);
  ASSERT_EQ(outcome["issue"].size(), 1u);
  EXPECT_EQ(outcome["issue"][0]["code"], "invalid");
  EXPECT_EQ(outcome["issue"][0]["diagnostics"], "not valid JSON");
  EXPECT_FALSE(outcome["issue"][0].contains("expression"));
  EXPECT_EQ(outcome["issue"][0]["details"]["coding"][0]["code"], "REC_BAD_REQUEST");
}

TEST(OperationOutcomeTest, AStatusWithoutViolationsIsOneIssueWithItsMessage) {
  json outcome = OperationOutcomeOf(absl::PermissionDeniedError("not your practice"));
  ASSERT_EQ(outcome["issue"].size(), 1u);
  EXPECT_EQ(outcome["issue"][0]["code"], "forbidden");
  EXPECT_EQ(outcome["issue"][0]["diagnostics"], "not your practice");
  EXPECT_EQ(outcome["issue"][0]["details"]["coding"][0]["code"], "REC_FORBIDDEN");
  json unauthenticated = OperationOutcomeOf(absl::UnauthenticatedError("no bearer token"));
  EXPECT_EQ(unauthenticated["issue"][0]["code"], "security");
  EXPECT_EQ(unauthenticated["issue"][0]["details"]["coding"][0]["code"], "REC_UNAUTHORIZED");
}

TEST(OperationOutcomeTest, UnlistedViolationsAreCounted) {
  // As intake's ViolationList says it when it lists only the first ones.
  absl::Status listed = InvalidArgumentWithViolations({{"needs[0].category", "required"}});
  absl::Status status(absl::StatusCode::kInvalidArgument,
                      "needs[0].category: required (and 5 more; the first 1 are listed)");
  listed.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { status.SetPayload(url, payload); });
  json outcome = OperationOutcomeOf(status, 422);
  ASSERT_EQ(outcome["issue"].size(), 2u);
  EXPECT_EQ(outcome["issue"][1]["severity"], "information");
  EXPECT_THAT(outcome["issue"][1]["diagnostics"].get<std::string>(),
              ::testing::HasSubstr("(and 5 more; the first 1 are listed)"));
}

TEST(OperationOutcomeTest, HttpStatusByCode) {
  EXPECT_EQ(HttpStatusOf(absl::OkStatus()), 200);
  EXPECT_EQ(HttpStatusOf(absl::InvalidArgumentError("x")), 400);
  EXPECT_EQ(HttpStatusOf(absl::UnauthenticatedError("x")), 401);
  EXPECT_EQ(HttpStatusOf(absl::PermissionDeniedError("x")), 403);
  EXPECT_EQ(HttpStatusOf(absl::NotFoundError("x")), 404);
  EXPECT_EQ(HttpStatusOf(absl::AlreadyExistsError("x")), 409);
  EXPECT_EQ(HttpStatusOf(absl::FailedPreconditionError("x")), 422);
  EXPECT_EQ(HttpStatusOf(absl::ResourceExhaustedError("x")), 429);
  EXPECT_EQ(HttpStatusOf(absl::UnavailableError("x")), 503);
  EXPECT_EQ(HttpStatusOf(absl::DeadlineExceededError("x")), 503);
  EXPECT_EQ(HttpStatusOf(absl::InternalError("x")), 500);
  EXPECT_EQ(HttpErrorCodeOf(409), "REC_CONFLICT");
  EXPECT_EQ(HttpErrorCodeOf(503), "REC_SERVICE_UNAVAILABLE");
  EXPECT_EQ(HttpErrorCodeOf(418), "REC_SERVER_ERROR");
}

}  // namespace
}  // namespace signpost::fhir

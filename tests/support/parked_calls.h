#pragma once

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/wait_until.h"

namespace signpost::testing {

// While calls are parked on a frozen dependency: asks `health` and `without_redis` again and again
// (the first asks may reach the server before the parked calls do), each given 20 s, then runs
// `resume` and fails the test naming what was not answered.
inline void ExpectAnsweredWhileCallsAreParked(const std::function<bool()>& health,
                                              const std::function<bool()>& without_redis,
                                              const std::function<void()>& resume) {
  bool health_answered = true;
  bool others_answered = true;
  for (int round = 0; round < 10 && health_answered && others_answered; ++round) {
    absl::SleepFor(absl::Seconds(1));
    health_answered = WaitUntil(health, absl::Seconds(20));
    others_answered = WaitUntil(without_redis, absl::Seconds(20));
  }
  resume();
  EXPECT_TRUE(health_answered) << "health check not answered while Redis was frozen";
  EXPECT_TRUE(others_answered) << "a call needing no Redis not answered while Redis was frozen";
}

// Every parked call ended answered, or refused with a status that says why: OK, UNAVAILABLE,
// RESOURCE_EXHAUSTED (the workers' queue was full, or no place was left) or DEADLINE_EXCEEDED,
// each refusal with a message.
inline void ExpectEachAnsweredOrRefusedClearly(const std::vector<grpc::Status>& statuses) {
  std::map<grpc::StatusCode, int> codes;
  std::map<grpc::StatusCode, std::string> messages;
  for (const grpc::Status& status : statuses) {
    codes[status.error_code()] += 1;
    messages[status.error_code()] = status.error_message();
    if (!status.ok()) {
      EXPECT_FALSE(status.error_message().empty());
    }
  }
  std::string summary;
  for (const auto& [code, n] : codes) {
    absl::StrAppend(&summary, code, " x", n, " (", messages[code], ") ");
  }
  std::cout << "answers once Redis went on: " << summary << "\n";
  for (const auto& [code, n] : codes) {
    EXPECT_THAT(code, ::testing::AnyOf(grpc::StatusCode::OK, grpc::StatusCode::UNAVAILABLE,
                                       grpc::StatusCode::RESOURCE_EXHAUSTED,
                                       grpc::StatusCode::DEADLINE_EXCEEDED))
        << summary;
  }
}

}  // namespace signpost::testing

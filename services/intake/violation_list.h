#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/status/field_violations.h"

namespace signpost::intake {

// How much of what is wrong with one submission is written out. A reply's violations travel in
// one gRPC trailer (8 KiB by default, and a reply that does not fit never arrives) and a
// rejection on Kafka, so one submission with millions of bad values lists the first ones and
// counts the rest.
struct ViolationBounds {
  size_t max_listed = 100;
  size_t max_listed_bytes = 4096;  // fields and descriptions together
  size_t max_text_bytes = 200;     // one field or description; longer is cut (UTF-8 intact)
};

// Collects violations within `bounds`, counting every one.
class ViolationList {
 public:
  explicit ViolationList(ViolationBounds bounds = {}) : bounds_(bounds) {}

  void Add(std::string field, std::string description);

  bool empty() const { return total_ == 0; }
  int64_t total() const { return total_; }
  int64_t unlisted() const { return total_ - static_cast<int64_t>(listed_.size()); }
  const std::vector<FieldViolation>& listed() const { return listed_; }
  std::vector<FieldViolation> TakeListed() { return std::move(listed_); }

 private:
  ViolationBounds bounds_;
  std::vector<FieldViolation> listed_;
  size_t listed_bytes_ = 0;
  int64_t total_ = 0;
};

// A status of `code` carrying `listed` as google.rpc.BadRequest field violations, its message
// naming the first and counting the rest: "needs: required (and 3 more)", or with violations
// left unlisted "... (and 20015 more; the first 100 are listed)". OK when there are none.
absl::Status StatusWithViolations(absl::StatusCode code, const std::vector<FieldViolation>& listed,
                                  int64_t unlisted);

// `text` cut to at most `max_bytes`, never inside a UTF-8 character, marked when cut.
std::string Abbreviated(std::string text, size_t max_bytes);

}  // namespace signpost::intake

#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hotline/v1/intake.pb.h"

namespace hotline::intake {

// Limits every channel shares. Lengths are in characters (code points), not bytes.
inline constexpr size_t kMaxTextChars = 2000;
inline constexpr size_t kMaxAddressChars = 200;
inline constexpr size_t kMaxNameChars = 50;
inline constexpr size_t kMaxSupplementChars = 1000;
inline constexpr size_t kMaxIdempotencyKeyBytes = 128;

// A phone number in one canonical form: "+8613812345678" (mobile), "+86-20-83838383" (landline,
// area code kept for reading back), "+442071234567" (international).
// INVALID_ARGUMENT "<field>: ..." when it is none of mainland mobile, mainland landline
// (with area code, optional extension) or +<country><number> (E.164, 8–15 digits).
absl::StatusOr<std::string> NormalizePhone(const std::string& field, const std::string& raw);

// Every rule a submission must pass before anything is stored. The error is INVALID_ARGUMENT
// and starts with the field path ("contact.phone: ..."), so channels can show it as is.
absl::Status ValidateSubmission(const v1::SubmitRequestRequest& req);

// Checks a UTF-8 text field: valid encoding, not blank when required, at most max_chars.
absl::Status CheckText(const std::string& field, const std::string& value, size_t max_chars,
                       bool required);

}  // namespace hotline::intake

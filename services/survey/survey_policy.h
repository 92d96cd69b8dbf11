#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "hotline/v1/common.pb.h"

// The survey's policy (回访策略) as plain data: which tickets are surveyed, how soon, when a
// citizen may be contacted, how often, on which channels, and which answer counts as negative.
// Loaded from deploy/survey/policy.tsv; knows nothing of Redis, Kafka or gRPC.
namespace hotline::survey {

// Outbound channels, in the words the policy file uses.
enum class ContactChannel { kSms, kIvr, kWechat, kEmail };
const char* ChannelName(ContactChannel c);
bool ParseChannel(absl::string_view s, ContactChannel* out);

// Satisfaction grades (满意度), 5 = 满意 … 1 = 很不满意.
inline constexpr int kGradeMin = 1;
inline constexpr int kGradeMax = 5;
// "满意" for 5 … "很不满意" for 1; "" outside 1..5.
const char* GradeName(int grade);
// "满意", "基本满意", "一般", "不满意", "很不满意" or "1".."5"; INVALID_ARGUMENT otherwise.
absl::StatusOr<int> ParseGrade(absl::string_view s);

struct SurveyPolicy {
  std::string type;  // "complaint", ... or "*" (every type without its own row)
  // Share of the type's tickets that are surveyed, in basis points (10000 = 100%).
  int share_bp = 10000;
  // The first contact is due within this much working time of the reply, on the department's
  // calendar. A first contact later than that is still made, but counted as late.
  absl::Duration within = absl::Hours(8);
  // Contacts only on the calendar's working days (false: any day; quiet hours still apply).
  bool working_days_only = false;
  // Contact window (outside it: quiet hours), minutes after local midnight, [start, end).
  int window_start_minute = 8 * 60;
  int window_end_minute = 21 * 60;
  // How long one contact may take: an attempt starts only if it can end before the window
  // closes, so a call is never still ringing into the quiet hours.
  absl::Duration contact_time = absl::Minutes(10);
  // Time zone of the contact window; nullopt = the zone of the department's calendar.
  std::optional<absl::TimeZone> zone;
  std::string zone_name = "calendar";
  int max_attempts = 3;
  // Earliest time between the end of a failed attempt and the next one (then moved out of the
  // quiet hours).
  absl::Duration spacing = absl::Hours(4);
  // Preference order; attempts rotate through the ones the citizen can be reached on.
  std::vector<ContactChannel> channels;
  // An answer at or below this grade is negative (as is "not resolved").
  int negative_at_or_below = 2;  // 不满意
};

// Sampling that is the same every time for a ticket id (a redelivered TicketReplied makes the
// same decision, and so does another instance): a 64-bit hash of the id, bucketed in 0..9999.
int SampleBucket(absl::string_view ticket_id);
bool IsSampled(absl::string_view ticket_id, int share_bp);

// The policy rows, looked up by ticket type (its row, else "*").
class SurveyPolicyTable {
 public:
  // TSV, '#' comments; columns documented in deploy/survey/policy.tsv. Errors are
  // INVALID_ARGUMENT "path:line: field: reason" (NOT_FOUND when the file cannot be opened).
  static absl::StatusOr<std::unique_ptr<SurveyPolicyTable>> LoadFile(const std::string& path);
  static absl::StatusOr<std::unique_ptr<SurveyPolicyTable>> FromPolicies(
      std::vector<SurveyPolicy> policies);

  // nullptr when neither the type nor "*" has a row (the type is not surveyed).
  const SurveyPolicy* Find(v1::TicketType type) const;
  const std::vector<SurveyPolicy>& policies() const { return policies_; }

 private:
  std::vector<SurveyPolicy> policies_;
};

// "complaint", "consultation", ... (the policy file's type names).
std::string SurveyTypeKey(v1::TicketType t);

}  // namespace hotline::survey

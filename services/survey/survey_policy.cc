#include "services/survey/survey_policy.h"

#include <cmath>
#include <fstream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/events.h"

namespace hotline::survey {
namespace {

constexpr const char* kGrades[] = {"很不满意", "不满意", "一般", "基本满意", "满意"};

constexpr const char* kColumns =
    "type, share, within, days, window, contact_time, zone, attempts, spacing, channels, "
    "negative_at";

// "90s", "30m", "4h": a positive duration. No days: a working day's length belongs to a
// calendar, and the department's calendar is only known per ticket.
bool ParsePositiveDuration(absl::string_view s, absl::Duration* out) {
  if (s.size() < 2) return false;
  double n;
  if (!absl::SimpleAtod(s.substr(0, s.size() - 1), &n) || !(n > 0) || n > 1e6) return false;
  switch (s.back()) {
    case 's':
      *out = absl::Seconds(n);
      return true;
    case 'm':
      *out = absl::Minutes(n);
      return true;
    case 'h':
      *out = absl::Hours(n);
      return true;
    default:
      return false;
  }
}

bool ParseHm(absl::string_view s, int* minutes) {
  std::vector<absl::string_view> p = absl::StrSplit(s, ':');
  int h, m;
  if (p.size() != 2 || p[0].size() != 2 || p[1].size() != 2 || !absl::SimpleAtoi(p[0], &h) ||
      !absl::SimpleAtoi(p[1], &m))
    return false;
  if (h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0)) return false;
  *minutes = h * 60 + m;
  return true;
}

// "30%", "100%", "2.5%" → basis points.
bool ParseShare(absl::string_view s, int* bp) {
  if (s.size() < 2 || s.back() != '%') return false;
  double pct;
  if (!absl::SimpleAtod(s.substr(0, s.size() - 1), &pct) || !(pct >= 0) || pct > 100) return false;
  *bp = static_cast<int>(std::lround(pct * 100));
  return true;
}

bool KnownType(absl::string_view t) {
  if (t == "*") return true;
  for (int i = v1::TicketType_MIN; i <= v1::TicketType_MAX; ++i) {
    if (i != v1::TICKET_TYPE_UNSPECIFIED && v1::TicketType_IsValid(i) &&
        SurveyTypeKey(static_cast<v1::TicketType>(i)) == t)
      return true;
  }
  return false;
}

}  // namespace

const char* ChannelName(ContactChannel c) {
  switch (c) {
    case ContactChannel::kSms:
      return "sms";
    case ContactChannel::kIvr:
      return "ivr";
    case ContactChannel::kWechat:
      return "wechat";
    case ContactChannel::kEmail:
      return "email";
  }
  return "?";
}

bool ParseChannel(absl::string_view s, ContactChannel* out) {
  for (ContactChannel c : {ContactChannel::kSms, ContactChannel::kIvr, ContactChannel::kWechat,
                           ContactChannel::kEmail}) {
    if (s == ChannelName(c)) {
      *out = c;
      return true;
    }
  }
  return false;
}

const char* GradeName(int grade) {
  if (grade < kGradeMin || grade > kGradeMax) return "";
  return kGrades[grade - 1];
}

absl::StatusOr<int> ParseGrade(absl::string_view s) {
  for (int g = kGradeMin; g <= kGradeMax; ++g) {
    if (s == kGrades[g - 1]) return g;
  }
  int g;
  if (absl::SimpleAtoi(s, &g) && g >= kGradeMin && g <= kGradeMax) return g;
  return absl::InvalidArgumentError(
      absl::StrCat("'", s, "' is not a grade (满意, 基本满意, 一般, 不满意, 很不满意 or 5..1)"));
}

std::string SurveyTypeKey(v1::TicketType t) { return EnumLabel(v1::TicketType_Name(t), 12); }

int SampleBucket(absl::string_view ticket_id) {
  // FNV-1a, then the splitmix64 finaliser: FNV alone leaves sequential ids ("T-000123",
  // "T-000124") close together in the low bits that the modulo keeps.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : ticket_id) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return static_cast<int>(h % 10000);
}

bool IsSampled(absl::string_view ticket_id, int share_bp) {
  return SampleBucket(ticket_id) < share_bp;
}

absl::StatusOr<std::unique_ptr<SurveyPolicyTable>> SurveyPolicyTable::LoadFile(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the survey policy"));
  std::vector<SurveyPolicy> out;
  std::set<std::string> seen;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto t = absl::StripAsciiWhitespace(line);
    if (t.empty() || t[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(t, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [&](absl::string_view field, absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", n, ": ", field, ": ", why));
    };
    if (f.size() != 11) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", n, ": expected 11 columns (", kColumns, "), got ", f.size()));
    }
    SurveyPolicy p;
    p.type = f[0];
    if (!KnownType(p.type)) {
      return bad("type", absl::StrCat("unknown ticket type '", p.type,
                                      "' (consultation, complaint, report, help, suggestion, "
                                      "praise or *)"));
    }
    if (!seen.insert(p.type).second) return bad("type", absl::StrCat("second row for ", p.type));
    if (!ParseShare(f[1], &p.share_bp))
      return bad("share", absl::StrCat("'", f[1], "' is not a percentage 0%..100%"));
    if (!ParsePositiveDuration(f[2], &p.within))
      return bad("within", absl::StrCat("'", f[2], "' is not a duration (30m, 8h)"));
    if (f[3] != "all" && f[3] != "working") return bad("days", "'all' or 'working'");
    p.working_days_only = f[3] == "working";
    std::vector<absl::string_view> w = absl::StrSplit(f[4], '-');
    if (w.size() != 2 || !ParseHm(w[0], &p.window_start_minute) ||
        !ParseHm(w[1], &p.window_end_minute) || p.window_end_minute <= p.window_start_minute) {
      return bad("window", absl::StrCat("'", f[4], "' is not HH:MM-HH:MM with start < end"));
    }
    if (!ParsePositiveDuration(f[5], &p.contact_time))
      return bad("contact_time", absl::StrCat("'", f[5], "' is not a duration (10m)"));
    if (p.contact_time >= absl::Minutes(p.window_end_minute - p.window_start_minute))
      return bad("contact_time", "longer than the contact window");
    p.zone_name = f[6];
    if (f[6] != "calendar") {
      absl::TimeZone z;
      if (!absl::LoadTimeZone(f[6], &z))
        return bad("zone", absl::StrCat("'", f[6], "' is not 'calendar' or an IANA time zone"));
      p.zone = z;
    }
    if (!absl::SimpleAtoi(f[7], &p.max_attempts) || p.max_attempts < 1 || p.max_attempts > 10)
      return bad("attempts", absl::StrCat("'", f[7], "' is not a number 1..10"));
    if (!ParsePositiveDuration(f[8], &p.spacing))
      return bad("spacing", absl::StrCat("'", f[8], "' is not a duration (4h)"));
    for (absl::string_view c : absl::StrSplit(f[9], ',')) {
      ContactChannel ch;
      if (!ParseChannel(c, &ch))
        return bad("channels", absl::StrCat("unknown channel '", c, "' (sms, ivr, wechat, email)"));
      for (ContactChannel prev : p.channels) {
        if (prev == ch) return bad("channels", absl::StrCat("'", c, "' listed twice"));
      }
      p.channels.push_back(ch);
    }
    auto grade = ParseGrade(f[10]);
    if (!grade.ok()) return bad("negative_at", grade.status().message());
    p.negative_at_or_below = *grade;
    out.push_back(std::move(p));
  }
  return FromPolicies(std::move(out));
}

absl::StatusOr<std::unique_ptr<SurveyPolicyTable>> SurveyPolicyTable::FromPolicies(
    std::vector<SurveyPolicy> policies) {
  for (const auto& p : policies) {
    if (p.channels.empty())
      return absl::InvalidArgumentError(absl::StrCat(p.type, ": channels: none listed"));
  }
  auto t = std::make_unique<SurveyPolicyTable>();
  t->policies_ = std::move(policies);
  return t;
}

const SurveyPolicy* SurveyPolicyTable::Find(v1::TicketType type) const {
  const std::string key = SurveyTypeKey(type);
  const SurveyPolicy* fallback = nullptr;
  for (const auto& p : policies_) {
    if (p.type == key) return &p;
    if (p.type == "*") fallback = &p;
  }
  return fallback;
}

}  // namespace hotline::survey

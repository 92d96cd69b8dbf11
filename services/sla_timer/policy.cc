#include "services/sla_timer/policy.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/events.h"

namespace hotline::sla {

std::string TypeKey(v1::TicketType t) { return EnumLabel(v1::TicketType_Name(t), 12); }

std::string UrgencyKey(v1::Urgency u) { return u == v1::URGENCY_URGENT ? "urgent" : "normal"; }

absl::StatusOr<absl::Duration> ParseBudget(const std::string& s, bool working_time,
                                           const WorkCalendar& cal) {
  if (s.size() < 2)
    return absl::InvalidArgumentError(absl::StrCat("'", s, "' is not a duration (30m, 2h, 2d)"));
  double n;
  if (!absl::SimpleAtod(s.substr(0, s.size() - 1), &n) || n <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", s, "' is not a positive duration"));
  }
  switch (s.back()) {
    case 's':
      return absl::Seconds(n);  // for tests and demos
    case 'm':
      return absl::Minutes(n);
    case 'h':
      return absl::Hours(n);
    case 'd':
      return working_time ? cal.WorkingDayLength() * n : absl::Hours(24 * n);
    default:
      return absl::InvalidArgumentError(absl::StrCat("'", s, "': unit is m, h or d"));
  }
}

absl::StatusOr<std::unique_ptr<PolicyTable>> PolicyTable::LoadFile(const std::string& path,
                                                                   const WorkCalendar& cal) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the SLA policies"));
  std::vector<Policy> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto t = absl::StripAsciiWhitespace(line);
    if (t.empty() || t[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(t, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", n, ": ", why));
    };
    if (f.size() != 6)
      return bad("expected type, urgency, sign_for, completion, working|calendar, warnings");
    Policy p;
    p.type = f[0];
    p.urgency = f[1];
    p.name = f[0] + "/" + f[1];
    if (f[4] != "working" && f[4] != "calendar") return bad("time is 'working' or 'calendar'");
    p.working_time = f[4] == "working";
    auto sign = ParseBudget(f[2], p.working_time, cal);
    if (!sign.ok()) return bad(absl::StrCat("sign_for: ", sign.status().message()));
    auto done = ParseBudget(f[3], p.working_time, cal);
    if (!done.ok()) return bad(absl::StrCat("completion: ", done.status().message()));
    p.sign_for = *sign;
    p.completion = *done;
    for (absl::string_view w : absl::StrSplit(f[5] == "-" ? "" : f[5], ',', absl::SkipEmpty())) {
      int pct;
      if (!absl::SimpleAtoi(w, &pct) || pct <= 0 || pct >= 100)
        return bad("warnings are percents between 1 and 99");
      p.warnings.push_back(pct);
    }
    std::sort(p.warnings.begin(), p.warnings.end());
    out.push_back(std::move(p));
  }
  return FromPolicies(std::move(out));
}

std::unique_ptr<PolicyTable> PolicyTable::FromPolicies(std::vector<Policy> p) {
  auto t = std::make_unique<PolicyTable>();
  t->policies_ = std::move(p);
  return t;
}

const Policy* PolicyTable::Find(v1::TicketType type, v1::Urgency urgency) const {
  const std::string ty = TypeKey(type), ur = UrgencyKey(urgency);
  for (const auto& [want_type, want_urgency] :
       {std::make_pair(ty, ur), std::make_pair(ty, std::string("*")),
        std::make_pair(std::string("*"), ur), std::make_pair(std::string("*"), std::string("*"))}) {
    for (const auto& p : policies_) {
      if (p.type == want_type && p.urgency == want_urgency) return &p;
    }
  }
  return nullptr;
}

}  // namespace hotline::sla

#include "services/sla_timer/clock.h"

#include <google/protobuf/util/time_util.h>
#include <openssl/sha.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/common/time_proto.h"

namespace hotline::sla {
namespace {

std::string Ms(absl::Time t) { return std::to_string(absl::ToUnixMillis(t)); }
std::string Ms(absl::Duration d) { return std::to_string(absl::ToInt64Milliseconds(d)); }

}  // namespace

std::string ClockRecord::Id() const { return absl::StrCat(ticket_id, ":", static_cast<int>(kind)); }

std::vector<std::string> ClockRecord::Fields() const {
  return {"ticket",   ticket_id,
          "dept",     department_id,
          "kind",     std::to_string(kind),
          "type",     std::to_string(type),
          "urgency",  std::to_string(urgency),
          "state",    std::to_string(state),
          "cal",      calendar,
          "policy",   policy,
          "working",  working_time ? "1" : "0",
          "gen",      std::to_string(generation),
          "part",     std::to_string(partition),
          "started",  Ms(started_at),
          "seg",      Ms(segment_start),
          "budget",   Ms(budget),
          "consumed", Ms(consumed),
          "points",   absl::StrJoin(points, ","),
          "next",     std::to_string(next)};
}

absl::StatusOr<ClockRecord> ClockRecord::FromFields(const std::map<std::string, std::string>& f) {
  ClockRecord c;
  auto get = [&](const char* k) -> const std::string& {
    static const std::string empty;
    auto it = f.find(k);
    return it == f.end() ? empty : it->second;
  };
  int64_t n = 0;
  auto num = [&](const char* k) {
    n = 0;
    return absl::SimpleAtoi(get(k), &n);
  };
  c.ticket_id = get("ticket");
  c.department_id = get("dept");
  c.calendar = get("cal");
  c.policy = get("policy");
  if (c.ticket_id.empty() || !num("kind"))
    return absl::DataLossError("SLA clock record is incomplete");
  c.kind = static_cast<v1::ClockKind>(n);
  if (num("type")) c.type = static_cast<v1::TicketType>(n);
  if (num("urgency")) c.urgency = static_cast<v1::Urgency>(n);
  if (num("state")) c.state = static_cast<v1::ClockState>(n);
  c.working_time = get("working") == "1";
  if (num("gen")) c.generation = n;
  if (num("part")) c.partition = static_cast<int32_t>(n);
  if (num("started")) c.started_at = absl::FromUnixMillis(n);
  if (num("seg")) c.segment_start = absl::FromUnixMillis(n);
  if (num("budget")) c.budget = absl::Milliseconds(n);
  if (num("consumed")) c.consumed = absl::Milliseconds(n);
  for (absl::string_view p : absl::StrSplit(get("points"), ',', absl::SkipEmpty())) {
    int v;
    if (absl::SimpleAtoi(p, &v)) c.points.push_back(v);
  }
  if (num("next")) c.next = static_cast<size_t>(n);
  return c;
}

absl::Time ClockMath::Add(absl::Time t, absl::Duration d, bool working) const {
  return working ? cal_.AddWorkingTime(t, d) : t + d;
}

absl::Duration ClockMath::Between(absl::Time a, absl::Time b, bool working) const {
  if (b <= a) return absl::ZeroDuration();
  return working ? cal_.WorkingTimeBetween(a, b) : b - a;
}

absl::Time ClockMath::TimeAtPercent(const ClockRecord& c, int percent) const {
  absl::Duration at = c.budget * percent / 100;
  absl::Duration left = at - c.consumed;
  if (left <= absl::ZeroDuration()) return c.segment_start;
  return Add(c.segment_start, left, c.working_time);
}

absl::Time ClockMath::NextFire(const ClockRecord& c) const {
  if (c.state != v1::CLOCK_STATE_RUNNING || c.next >= c.points.size())
    return absl::InfiniteFuture();
  return TimeAtPercent(c, c.points[c.next]);
}

absl::Duration ClockMath::Used(const ClockRecord& c, absl::Time now) const {
  if (c.state != v1::CLOCK_STATE_RUNNING && c.state != v1::CLOCK_STATE_BREACHED) return c.consumed;
  return c.consumed + Between(c.segment_start, now, c.working_time);
}

int ClockMath::PercentElapsed(const ClockRecord& c, absl::Time now) const {
  if (c.budget <= absl::ZeroDuration()) return 100;
  return static_cast<int>(absl::FDivDuration(Used(c, now), c.budget) * 100);
}

void ClockMath::Pause(ClockRecord& c, absl::Time now) const {
  if (c.state != v1::CLOCK_STATE_RUNNING) return;
  c.consumed += Between(c.segment_start, now, c.working_time);
  c.segment_start = now;
  c.state = v1::CLOCK_STATE_PAUSED;
}

void ClockMath::Resume(ClockRecord& c, absl::Time now) const {
  if (c.state != v1::CLOCK_STATE_PAUSED) return;
  c.segment_start = now;
  c.state = v1::CLOCK_STATE_RUNNING;
}

void ClockMath::ExtendTo(ClockRecord& c, absl::Time now, absl::Time deadline) const {
  if (c.state == v1::CLOCK_STATE_RUNNING || c.state == v1::CLOCK_STATE_BREACHED) {
    c.consumed += Between(c.segment_start, now, c.working_time);
  }
  c.segment_start = now;
  c.budget = c.consumed + Between(now, deadline, c.working_time);
  c.state = v1::CLOCK_STATE_RUNNING;
  // A new schedule: the warning points still ahead of the new budget fire (again), with new
  // event ids, and so does the breach at the new deadline.
  ++c.generation;
  int used = PercentElapsed(c, now);
  c.next = 0;
  while (c.next < c.points.size() && c.points[c.next] <= used && c.points[c.next] != 100) ++c.next;
}

v1::Clock ClockMath::ToProto(const ClockRecord& c, absl::Time now) const {
  v1::Clock out;
  out.set_ticket_id(c.ticket_id);
  out.set_department_id(c.department_id);
  out.set_kind(c.kind);
  out.set_state(c.state);
  *out.mutable_started_at() = ToTimestamp(c.started_at);
  *out.mutable_deadline() = ToTimestamp(Deadline(c));
  out.set_remaining_working_seconds(absl::ToInt64Seconds(c.budget - Used(c, now)));
  out.set_percent_elapsed(PercentElapsed(c, now));
  return out;
}

std::string DueEventId(const ClockRecord& c, int percent) {
  std::string name = absl::StrCat("sla|", c.ticket_id, "|", static_cast<int>(c.kind), "|",
                                  c.generation, "|", percent);
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(), d);
  d[6] = (d[6] & 0x0f) | 0x50;  // version 5 style (name-based)
  d[8] = (d[8] & 0x3f) | 0x80;
  return absl::StrFormat("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                         d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11],
                         d[12], d[13], d[14], d[15]);
}

}  // namespace hotline::sla

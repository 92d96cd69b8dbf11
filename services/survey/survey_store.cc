#include "services/survey/survey_store.h"

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace hotline::survey {
namespace {

constexpr SurveyState kStates[] = {SurveyState::kScheduled, SurveyState::kContacting,
                                   SurveyState::kAnswered,  SurveyState::kUnreachable,
                                   SurveyState::kOptedOut,  SurveyState::kCancelled};

absl::Time FromMs(int64_t ms) { return absl::FromUnixMillis(ms); }

bool ParseTimes(absl::string_view s, std::vector<absl::Time>* out) {
  for (absl::string_view p : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    int64_t ms;
    if (!absl::SimpleAtoi(p, &ms)) return false;
    out->push_back(FromMs(ms));
  }
  return true;
}

}  // namespace

std::string SurveyKey(const std::string& survey_id) { return "survey:s:" + survey_id; }
std::string TicketKey(const std::string& ticket_id) { return "survey:ticket:" + ticket_id; }

int64_t ToMs(absl::Time t) {
  if (t == absl::InfiniteFuture()) return INT64_MAX / 2;
  if (t == absl::InfinitePast()) return 0;
  return absl::ToUnixMillis(t);
}

RedisCommand WriteCommand(const StoredSurvey& s) {
  const SurveyRecord& r = s.record;
  std::vector<std::string> channels, times;
  for (ContactChannel c : r.channels) channels.push_back(ChannelName(c));
  for (absl::Time t : r.attempt_times) times.push_back(std::to_string(ToMs(t)));
  return {"HSET",       SurveyKey(s.id),
          "ticket",     r.ticket_id,
          "type",       std::to_string(static_cast<int>(r.type)),
          "dept",       r.department_id,
          "replied",    std::to_string(ToMs(r.replied_at)),
          "state",      SurveyStateName(r.state),
          "due",        std::to_string(ToMs(r.due_at)),
          "next",       std::to_string(ToMs(r.next_contact)),
          "made",       std::to_string(r.attempts_made),
          "max",        std::to_string(r.max_attempts),
          "channels",   absl::StrJoin(channels, ","),
          "times",      absl::StrJoin(times, ","),
          "sent",       s.sent ? "1" : "0",
          "sat",        std::to_string(s.satisfaction),
          "resolution", s.resolution,
          "comment",    s.comment,
          "answered",   std::to_string(ToMs(s.answered_at))};
}

absl::StatusOr<std::optional<StoredSurvey>> ParseSurvey(const std::string& id,
                                                        const RedisReply& hgetall) {
  if (hgetall.elements.empty()) return std::nullopt;
  std::map<std::string, std::string> f;
  for (size_t i = 0; i + 1 < hgetall.elements.size(); i += 2)
    f[hgetall.elements[i].str] = hgetall.elements[i + 1].str;
  auto bad = [&](const char* field) {
    return absl::InternalError(absl::StrCat("survey ", id, ": field ", field, " is corrupt"));
  };
  StoredSurvey s;
  s.id = id;
  SurveyRecord& r = s.record;
  r.ticket_id = f["ticket"];
  r.department_id = f["dept"];
  int type = 0;
  if (!absl::SimpleAtoi(f["type"], &type) || !v1::TicketType_IsValid(type)) return bad("type");
  r.type = static_cast<v1::TicketType>(type);
  bool state_ok = false;
  for (SurveyState st : kStates) {
    if (f["state"] == SurveyStateName(st)) {
      r.state = st;
      state_ok = true;
    }
  }
  if (!state_ok) return bad("state");
  int64_t ms;
  if (!absl::SimpleAtoi(f["replied"], &ms)) return bad("replied");
  r.replied_at = FromMs(ms);
  if (!absl::SimpleAtoi(f["due"], &ms)) return bad("due");
  r.due_at = FromMs(ms);
  if (!absl::SimpleAtoi(f["next"], &ms)) return bad("next");
  r.next_contact = ms >= INT64_MAX / 2 ? absl::InfiniteFuture() : FromMs(ms);
  if (!absl::SimpleAtoi(f["made"], &r.attempts_made)) return bad("made");
  if (!absl::SimpleAtoi(f["max"], &r.max_attempts)) return bad("max");
  for (absl::string_view c : absl::StrSplit(f["channels"], ',', absl::SkipEmpty())) {
    ContactChannel ch;
    if (!ParseChannel(c, &ch)) return bad("channels");
    r.channels.push_back(ch);
  }
  if (!ParseTimes(f["times"], &r.attempt_times)) return bad("times");
  s.sent = f["sent"] == "1";
  if (!absl::SimpleAtoi(f["sat"], &s.satisfaction)) return bad("sat");
  s.resolution = f["resolution"];
  s.comment = f["comment"];
  if (!absl::SimpleAtoi(f["answered"], &ms)) return bad("answered");
  s.answered_at = ms == 0 ? absl::InfinitePast() : FromMs(ms);
  return s;
}

absl::StatusOr<std::optional<StoredSurvey>> ReadSurvey(const RedisClient::Reader& read,
                                                       const std::string& id) {
  auto r = read({"HGETALL", SurveyKey(id)});
  if (!r.ok()) return r.status();
  return ParseSurvey(id, *r);
}

absl::StatusOr<std::string> ReadCurrent(const RedisClient::Reader& read,
                                        const std::string& ticket_id) {
  auto r = read({"GET", TicketKey(ticket_id)});
  if (!r.ok()) return r.status();
  return r->IsNil() ? std::string() : r->str;
}

}  // namespace hotline::survey

#include "services/sla_timer/sla_engine.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/time_proto.h"

namespace hotline::sla {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kTickets[] = "hotline.tickets.v1";
constexpr size_t kLoadChunk = 20000;

std::string DueKey(int32_t p) { return "sla:due:" + std::to_string(p); }
std::string DeptKey(const std::string& d) { return "sla:dept:" + d; }
std::string YellowKey(const std::string& d) { return "sla:yellow:" + d; }
constexpr char kCardsKey[] = "sla:cards";

// Milliseconds on purpose: clocks are stored and scheduled in whole milliseconds.
absl::Time FromTs(const google::protobuf::Timestamp& t) { return absl::FromUnixMillis(TimeUtil::TimestampToMilliseconds(t)); }

}  // namespace

SlaEngine::SlaEngine(RedisClient* redis, Outbox* outbox, IdempotentApplier* applier, const PolicyTable* policies,
                     SlaOptions opts, SlaMetrics* metrics, std::function<absl::Time()> now)
    : redis_(redis), outbox_(outbox), applier_(applier), policies_(policies), opts_(std::move(opts)),
      metrics_(metrics), now_(std::move(now)), wheel_(absl::ToUnixMillis(now_()), opts_.tick_ms) {
  if (!opts_.calendars.count("24x7")) opts_.calendars.emplace("24x7", WorkCalendar::AlwaysOpen());
}

SlaEngine::~SlaEngine() { Stop(); }

const WorkCalendar& SlaEngine::CalendarFor(const std::string& dept, const std::string& name) const {
  std::string n = name;
  if (n.empty()) {
    auto it = opts_.department_calendar.find(dept);
    n = it == opts_.department_calendar.end() ? opts_.default_calendar : it->second;
  }
  auto cal = opts_.calendars.find(n);
  if (cal == opts_.calendars.end()) cal = opts_.calendars.find(opts_.default_calendar);
  if (cal == opts_.calendars.end()) cal = opts_.calendars.find("24x7");
  return cal->second;
}

std::vector<RedisCommand> SlaEngine::WriteClock(const ClockRecord& c) const {
  ClockMath math = MathFor(c);
  RedisCommand hset = {"HSET", ClockKey(c.Id())};
  for (auto& f : c.Fields()) hset.push_back(std::move(f));
  std::vector<RedisCommand> cmds = {hset};
  absl::Time next = math.NextFire(c);
  if (next == absl::InfiniteFuture()) {
    cmds.push_back({"ZREM", DueKey(c.partition), c.Id()});
  } else {
    cmds.push_back({"ZADD", DueKey(c.partition), std::to_string(absl::ToUnixMillis(next)), c.Id()});
  }
  bool open = c.state == v1::CLOCK_STATE_RUNNING || c.state == v1::CLOCK_STATE_PAUSED ||
              c.state == v1::CLOCK_STATE_BREACHED;
  if (open) {
    cmds.push_back({"ZADD", DeptKey(c.department_id), std::to_string(absl::ToUnixMillis(math.Deadline(c))), c.Id()});
  } else {
    cmds.push_back({"ZREM", DeptKey(c.department_id), c.Id()});
  }
  return cmds;
}

absl::StatusOr<std::optional<ClockRecord>> SlaEngine::ReadClock(const RedisClient::Reader& read,
                                                                const std::string& id) const {
  auto r = read({"HGETALL", ClockKey(id)});
  if (!r.ok()) return r.status();
  if (r->elements.empty()) return std::optional<ClockRecord>();
  std::map<std::string, std::string> f;
  for (size_t i = 0; i + 1 < r->elements.size(); i += 2) f[r->elements[i].str] = r->elements[i + 1].str;
  auto c = ClockRecord::FromFields(f);
  if (!c.ok()) return c.status();
  return std::optional<ClockRecord>(std::move(*c));
}

absl::Status SlaEngine::HandleEvent(const v1::EventEnvelope& e, const MessageMeta& meta) {
  using Case = v1::EventEnvelope::PayloadCase;
  const Case pc = e.payload_case();
  std::string ticket;
  switch (pc) {
    case Case::kTicketDispatched: ticket = e.ticket_dispatched().ticket_id(); break;
    case Case::kTicketAccepted: ticket = e.ticket_accepted().ticket_id(); break;
    case Case::kTicketReturned: ticket = e.ticket_returned().ticket_id(); break;
    case Case::kExtensionRequested: ticket = e.extension_requested().ticket_id(); break;
    case Case::kExtensionGranted: ticket = e.extension_granted().ticket_id(); break;
    case Case::kExtensionRefused: ticket = e.extension_refused().ticket_id(); break;
    case Case::kTicketReplied: ticket = e.ticket_replied().ticket_id(); break;
    case Case::kTicketReopened: ticket = e.ticket_reopened().ticket_id(); break;
    case Case::kTicketClosed: ticket = e.ticket_closed().ticket_id(); break;
    case Case::kTicketWithdrawn: ticket = e.ticket_withdrawn().ticket_id(); break;
    default: return absl::OkStatus();
  }
  if (ticket.empty()) return absl::InvalidArgumentError("event without a ticket_id");
  const absl::Time now = now_();
  const std::string sign_id = absl::StrCat(ticket, ":", static_cast<int>(v1::CLOCK_KIND_SIGN_FOR));
  const std::string done_id = absl::StrCat(ticket, ":", static_cast<int>(v1::CLOCK_KIND_COMPLETION));
  std::vector<ClockRecord> written;

  auto plan = [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
    written.clear();
    auto sign_read = ReadClock(read, sign_id);
    if (!sign_read.ok()) return sign_read.status();
    auto done_read = ReadClock(read, done_id);
    if (!done_read.ok()) return done_read.status();
    std::optional<ClockRecord> sign = std::move(*sign_read), done = std::move(*done_read);
    auto stop = [&](std::optional<ClockRecord>& c, v1::ClockState st) {
      if (!c || c->state == v1::CLOCK_STATE_STOPPED) return;
      MathFor(*c).Pause(*c, now);  // freeze the time used
      c->state = st;
      written.push_back(*c);
    };
    auto start = [&](v1::ClockKind kind, std::optional<ClockRecord>& old, const std::string& dept, v1::TicketType type,
                     v1::Urgency urgency, absl::Time at) {
      const Policy* p = policies_->Find(type, urgency);
      if (!p) return;
      ClockRecord c;
      c.ticket_id = ticket;
      c.department_id = dept;
      c.kind = kind;
      c.type = type;
      c.urgency = urgency;
      c.policy = p->name;
      c.working_time = p->working_time;
      c.calendar = p->working_time ? CalendarFor(dept).name() : "24x7";
      c.generation = old ? old->generation + 1 : 1;
      c.partition = meta.partition;
      c.started_at = c.segment_start = at;
      c.budget = kind == v1::CLOCK_KIND_SIGN_FOR ? p->sign_for : p->completion;
      c.points = p->warnings;
      c.points.push_back(100);
      written.push_back(c);
    };
    switch (pc) {
      case Case::kTicketDispatched: {
        const auto& d = e.ticket_dispatched();
        absl::Time at = d.has_dispatched_at() ? FromTs(d.dispatched_at()) : now;
        start(v1::CLOCK_KIND_SIGN_FOR, sign, d.department_id(), d.type(), d.urgency(), at);
        start(v1::CLOCK_KIND_COMPLETION, done, d.department_id(), d.type(), d.urgency(), at);
        break;
      }
      case Case::kTicketAccepted: stop(sign, v1::CLOCK_STATE_STOPPED); break;
      case Case::kTicketReturned:
        stop(sign, v1::CLOCK_STATE_STOPPED);
        stop(done, v1::CLOCK_STATE_STOPPED);
        break;
      case Case::kExtensionRequested:
        if (done && done->state == v1::CLOCK_STATE_RUNNING) {
          MathFor(*done).Pause(*done, now);  // the centre is deciding: the clock waits
          written.push_back(*done);
        }
        break;
      case Case::kExtensionGranted:
        if (done && done->state != v1::CLOCK_STATE_STOPPED) {
          MathFor(*done).ExtendTo(*done, now, FromTs(e.extension_granted().new_deadline()));
          written.push_back(*done);
        }
        break;
      case Case::kExtensionRefused:
        if (done && done->state == v1::CLOCK_STATE_PAUSED) {
          MathFor(*done).Resume(*done, now);
          written.push_back(*done);
        }
        break;
      case Case::kTicketReplied:
        stop(sign, v1::CLOCK_STATE_STOPPED);
        stop(done, v1::CLOCK_STATE_STOPPED);
        break;
      case Case::kTicketReopened: {
        // 重办: new clocks for the same department, same type.
        const ClockRecord* base = done ? &*done : sign ? &*sign : nullptr;
        if (!base) break;
        std::string dept = e.ticket_reopened().department_id().empty() ? base->department_id
                                                                        : e.ticket_reopened().department_id();
        v1::TicketType type = base->type;
        v1::Urgency urgency = base->urgency;
        start(v1::CLOCK_KIND_SIGN_FOR, sign, dept, type, urgency, now);
        start(v1::CLOCK_KIND_COMPLETION, done, dept, type, urgency, now);
        break;
      }
      case Case::kTicketClosed:
      case Case::kTicketWithdrawn:
        stop(sign, v1::CLOCK_STATE_STOPPED);
        stop(done, v1::CLOCK_STATE_STOPPED);
        break;
      default: break;
    }
    std::vector<RedisCommand> cmds;
    for (const auto& c : written) {
      auto w = WriteClock(c);
      cmds.insert(cmds.end(), w.begin(), w.end());
    }
    if (cmds.empty()) cmds.push_back({"PING"});  // nothing to change, but remember the event
    return cmds;
  };
  auto outcome = applier_->Apply(e, plan, {ClockKey(sign_id), ClockKey(done_id)});
  if (!outcome.ok()) return outcome.status();
  if (*outcome == IdempotentApplier::Outcome::kApplied) {
    for (const auto& c : written) Schedule(c);
  }
  return absl::OkStatus();
}

void SlaEngine::Schedule(const ClockRecord& c) {
  absl::Time next = MathFor(c).NextFire(c);
  std::lock_guard<std::mutex> l(mu_);
  if (next == absl::InfiniteFuture() || !owned_.count(c.partition)) {
    UnscheduleLocked(c.Id());
  } else {
    ScheduleLocked(c.Id(), c.partition, absl::ToUnixMillis(next));
  }
  metrics_->Active(wheel_.size());
}

void SlaEngine::ScheduleLocked(const std::string& id, int32_t partition, int64_t due_ms) {
  UnscheduleLocked(id);
  uint32_t slot;
  if (!free_entries_.empty()) {
    slot = free_entries_.back();
    free_entries_.pop_back();
  } else {
    slot = static_cast<uint32_t>(entries_.size());
    entries_.push_back({});
  }
  entries_[slot] = Entry{id, partition, wheel_.Add(due_ms, slot), true};
  by_id_[id] = slot;
}

void SlaEngine::UnscheduleLocked(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  Entry& e = entries_[it->second];
  wheel_.Cancel(e.handle);
  e.used = false;
  e.clock_id.clear();
  free_entries_.push_back(it->second);
  by_id_.erase(it);
}

void SlaEngine::OnAssigned(const TopicPartitionList& tps) {
  for (const auto& [topic, p] : tps) {
    if (topic != kTickets) continue;
    {
      std::lock_guard<std::mutex> l(mu_);
      owned_.insert(p);
    }
    auto start = std::chrono::steady_clock::now();
    auto n = LoadPartition(p);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!n.ok()) {
      // The clocks stay in Redis; the next rebalance or restart loads them. Firing is late, not lost.
      LogError("could not load SLA clocks of a partition", {{"partition", std::to_string(p)},
                                                            {"error", std::string(n.status().message())}});
      continue;
    }
    LogInfo("SLA clocks loaded", {{"partition", std::to_string(p)}, {"clocks", std::to_string(*n)},
                                  {"seconds", std::to_string(secs)}});
  }
}

void SlaEngine::OnRevoked(const TopicPartitionList& tps) {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [topic, p] : tps) {
    if (topic != kTickets) continue;
    owned_.erase(p);
    std::vector<std::string> drop;
    for (const auto& [id, slot] : by_id_) {
      if (entries_[slot].partition == p) drop.push_back(id);
    }
    for (const auto& id : drop) UnscheduleLocked(id);
  }
  metrics_->Active(wheel_.size());
}

absl::StatusOr<size_t> SlaEngine::LoadPartition(int32_t partition) {
  size_t loaded = 0;
  for (size_t start = 0;; start += kLoadChunk) {
    auto r = redis_->Command({"ZRANGE", DueKey(partition), std::to_string(start),
                              std::to_string(start + kLoadChunk - 1), "WITHSCORES"});
    if (!r.ok()) return r.status();
    std::lock_guard<std::mutex> l(mu_);
    if (!owned_.count(partition)) return loaded;  // revoked meanwhile
    for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
      ScheduleLocked(r->elements[i].str, partition, std::stoll(r->elements[i + 1].str));
      ++loaded;
    }
    metrics_->Active(wheel_.size());
    if (r->elements.size() < 2 * kLoadChunk) break;
  }
  return loaded;
}

absl::StatusOr<std::optional<ClockRecord>> SlaEngine::Fire(const std::string& clock_id, int64_t due_ms) {
  const absl::Time now = now_();
  std::optional<ClockRecord> result;
  std::vector<v1::EventEnvelope> events;
  std::string fired_kind;
  auto plan = [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
    result.reset();
    events.clear();
    auto cur = ReadClock(read, clock_id);
    if (!cur.ok()) return cur.status();
    if (!cur->has_value()) return std::vector<RedisCommand>{};
    ClockRecord c = **cur;
    ClockMath math = MathFor(c);
    absl::Time due = math.NextFire(c);
    // Stale wheel entry: stopped, paused, rescheduled, or already fired (by us before a crash,
    // or by another instance during a rebalance).
    if (due == absl::InfiniteFuture() || absl::ToUnixMillis(due) != due_ms || due > now) {
      return std::vector<RedisCommand>{};
    }
    int point = c.points[c.next];
    v1::EventEnvelope ev = NewEnvelope("sla_timer", c.ticket_id, 0);
    ev.set_event_id(DueEventId(c, point));
    std::vector<RedisCommand> cmds;
    if (point < 100) {
      auto* w = ev.mutable_sla_warning();
      w->set_ticket_id(c.ticket_id);
      w->set_department_id(c.department_id);
      w->set_clock(c.kind);
      w->set_percent_elapsed(point);
      *w->mutable_deadline() = ToTimestamp(math.Deadline(c));
      fired_kind = "warning";
    } else {
      auto* b = ev.mutable_sla_breached();
      b->set_ticket_id(c.ticket_id);
      b->set_department_id(c.department_id);
      b->set_clock(c.kind);
      *b->mutable_deadline() = ToTimestamp(math.Deadline(c));
      c.state = v1::CLOCK_STATE_BREACHED;  // keeps running: how late it is stays measurable
      fired_kind = "breach";
    }
    events.push_back(ev);
    if (point == 100 && c.kind == v1::CLOCK_KIND_COMPLETION) {
      // A yellow card for the overdue ticket; a red one when the department collected too many.
      v1::Card yellow;
      yellow.set_card_id(DueEventId(c, 1000));
      yellow.set_department_id(c.department_id);
      yellow.set_color(v1::CARD_COLOR_YELLOW);
      yellow.set_ticket_id(c.ticket_id);
      yellow.set_reason(absl::StrCat("ticket overdue (", c.policy, " deadline passed)"));
      *yellow.mutable_issued_at() = ToTimestamp(now);
      auto w = read({"WATCH", YellowKey(c.department_id)});
      if (!w.ok()) return w.status();
      auto count = read({"ZCOUNT", YellowKey(c.department_id),
                         std::to_string(absl::ToUnixMillis(now - opts_.red_card_window)), "+inf"});
      if (!count.ok()) return count.status();
      std::vector<v1::Card> cards = {yellow};
      int64_t yellows = count->integer + 1;
      if (opts_.red_card_yellows > 0 && yellows % opts_.red_card_yellows == 0) {
        v1::Card red;
        red.set_card_id(DueEventId(c, 2000));
        red.set_department_id(c.department_id);
        red.set_color(v1::CARD_COLOR_RED);
        red.set_reason(absl::StrCat(yellows, " yellow cards within ",
                                    absl::FormatDuration(opts_.red_card_window), " (督办)"));
        *red.mutable_issued_at() = ToTimestamp(now);
        cards.push_back(red);
      }
      cmds.push_back({"ZADD", YellowKey(c.department_id), std::to_string(absl::ToUnixMillis(now)), yellow.card_id()});
      for (const auto& card : cards) {
        cmds.push_back({"LPUSH", kCardsKey, card.SerializeAsString()});
        v1::EventEnvelope ce = NewEnvelope("sla_timer", c.ticket_id, 0);
        ce.set_event_id(card.card_id());
        auto* ci = ce.mutable_card_issued();
        ci->set_card_id(card.card_id());
        ci->set_department_id(card.department_id());
        ci->set_color(card.color());
        ci->set_ticket_id(card.ticket_id());
        ci->set_reason(card.reason());
        events.push_back(ce);
      }
      cmds.push_back({"LTRIM", kCardsKey, "0", "99999"});
    }
    ++c.next;
    auto w = WriteClock(c);
    cmds.insert(cmds.begin(), w.begin(), w.end());
    auto append = outbox_->AppendCommand(events);  // refuses oversized events
    if (!append.ok()) return append.status();
    cmds.push_back(*std::move(append));
    result = c;
    return cmds;
  };
  auto r = redis_->WatchTransaction({ClockKey(clock_id)}, plan);
  if (!r.ok()) return r.status();
  if (!result) return result;
  outbox_->NotifyCommitted();
  double lag = absl::ToDoubleSeconds(now_() - absl::FromUnixMillis(due_ms));
  metrics_->Lag(lag);
  if (opts_.observe_lag) opts_.observe_lag(lag);
  std::string type = TypeKey(result->type);
  if (fired_kind == "warning") metrics_->Warning(result->department_id, type);
  if (fired_kind == "breach") metrics_->Breach(result->department_id, type);
  for (const auto& ev : events) {
    if (ev.has_card_issued()) metrics_->Card(ev.card_issued().color() == v1::CARD_COLOR_RED ? "red" : "yellow");
  }
  return result;
}

size_t SlaEngine::FireDue() {
  struct Due {
    std::string id;
    int32_t partition;
    int64_t expiry;
  };
  std::vector<Due> due;
  {
    std::lock_guard<std::mutex> l(mu_);
    wheel_.Advance(absl::ToUnixMillis(now_()), [&](uint32_t slot, int64_t expiry) {
      Entry& e = entries_[slot];
      due.push_back({e.clock_id, e.partition, expiry});
      by_id_.erase(e.clock_id);
      e.used = false;
      e.clock_id.clear();
      free_entries_.push_back(slot);
    });
  }
  size_t fired = 0;
  for (const auto& [id, partition, expiry] : due) {
    auto r = Fire(id, expiry);
    if (!r.ok()) {
      // Redis unreachable: try again in a second; the clock is still due in Redis either way.
      LogWarn("SLA fire failed; retrying", {{"error", std::string(r.status().message())}});
      std::lock_guard<std::mutex> l(mu_);
      if (owned_.count(partition)) ScheduleLocked(id, partition, absl::ToUnixMillis(now_()) + 1000);
      continue;
    }
    if (*r) {
      ++fired;
      Schedule(**r);
    }
  }
  if (!due.empty()) {
    std::lock_guard<std::mutex> l(mu_);
    metrics_->Active(wheel_.size());
  }
  return fired;
}

void SlaEngine::Start() {
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      FireDue();
      std::this_thread::sleep_for(std::chrono::milliseconds(opts_.tick_ms));
    }
  });
}

void SlaEngine::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

size_t SlaEngine::scheduled() const {
  std::lock_guard<std::mutex> l(mu_);
  return wheel_.size();
}

absl::StatusOr<std::vector<v1::Clock>> SlaEngine::TicketClocks(const std::string& ticket_id) {
  if (ticket_id.empty()) return absl::InvalidArgumentError("ticket_id: is required");
  std::vector<v1::Clock> out;
  auto read = [this](const RedisCommand& c) { return redis_->Command(c); };
  for (v1::ClockKind k : {v1::CLOCK_KIND_SIGN_FOR, v1::CLOCK_KIND_COMPLETION}) {
    auto c = ReadClock(read, absl::StrCat(ticket_id, ":", static_cast<int>(k)));
    if (!c.ok()) return c.status();
    if (c->has_value()) out.push_back(MathFor(**c).ToProto(**c, now_()));
  }
  if (out.empty()) return absl::NotFoundError(absl::StrCat("no SLA clocks for ticket ", ticket_id));
  return out;
}

absl::StatusOr<std::vector<v1::Clock>> SlaEngine::AtRisk(const std::string& dept, int min_percent, size_t limit) {
  if (dept.empty()) return absl::InvalidArgumentError("department_id: is required");
  auto ids = redis_->Command({"ZRANGE", DeptKey(dept), "0", "999"});
  if (!ids.ok()) return ids.status();
  std::vector<v1::Clock> out;
  auto read = [this](const RedisCommand& c) { return redis_->Command(c); };
  absl::Time now = now_();
  for (const auto& id : ids->elements) {
    auto c = ReadClock(read, id.str);
    if (!c.ok()) return c.status();
    if (!c->has_value()) continue;
    auto proto = MathFor(**c).ToProto(**c, now);
    if (proto.percent_elapsed() >= min_percent) out.push_back(proto);
  }
  std::sort(out.begin(), out.end(), [](const v1::Clock& a, const v1::Clock& b) {
    return a.percent_elapsed() > b.percent_elapsed();
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

absl::StatusOr<std::vector<v1::Card>> SlaEngine::Cards(const std::string& dept, absl::Time since, size_t limit) {
  auto r = redis_->Command({"LRANGE", kCardsKey, "0", "9999"});
  if (!r.ok()) return r.status();
  std::vector<v1::Card> out;
  for (const auto& e : r->elements) {
    v1::Card c;
    if (!c.ParseFromString(e.str)) continue;
    if (!dept.empty() && c.department_id() != dept) continue;
    if (FromTs(c.issued_at()) < since) continue;
    out.push_back(std::move(c));
    if (out.size() >= limit) break;
  }
  return out;
}

absl::StatusOr<v1::PreviewDeadlineResponse> SlaEngine::Preview(const v1::PreviewDeadlineRequest& req) {
  if (req.type() == v1::TICKET_TYPE_UNSPECIFIED) return absl::InvalidArgumentError("type: is required");
  const Policy* p = policies_->Find(req.type(), req.urgency() == v1::URGENCY_UNSPECIFIED ? v1::URGENCY_NORMAL : req.urgency());
  if (!p) return absl::NotFoundError("no SLA policy covers this type and urgency");
  absl::Time at = req.has_dispatched_at() ? FromTs(req.dispatched_at()) : now_();
  const WorkCalendar& cal = p->working_time ? CalendarFor(req.department_id()) : CalendarFor("", "24x7");
  v1::PreviewDeadlineResponse out;
  *out.mutable_sign_for_deadline() = ToTimestamp(p->working_time ? cal.AddWorkingTime(at, p->sign_for) : at + p->sign_for);
  *out.mutable_completion_deadline() = ToTimestamp(p->working_time ? cal.AddWorkingTime(at, p->completion) : at + p->completion);
  out.set_policy(absl::StrCat(p->name, " on calendar ", cal.name()));
  return out;
}

}  // namespace hotline::sla

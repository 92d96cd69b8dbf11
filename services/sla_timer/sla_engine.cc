#include "services/sla_timer/sla_engine.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/time_proto.h"

namespace hotline::sla {
namespace {

constexpr char kTickets[] = "hotline.tickets.v1";
constexpr size_t kLoadChunk = 20000;

// Milliseconds on purpose: clocks are stored and scheduled in whole milliseconds.
absl::Time FromTs(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMillis(google::protobuf::util::TimeUtil::TimestampToMilliseconds(t));
}

std::string P(int32_t p) { return std::to_string(p); }

}  // namespace

SlaEngine::SlaEngine(SlaStore* store, const PolicyTable* policies, SlaOptions opts,
                     SlaMetrics* metrics, std::function<absl::Time()> now)
    : store_(store),
      policies_(policies),
      opts_(std::move(opts)),
      calendars_(opts_.calendars, opts_.default_calendar, opts_.department_calendar),
      metrics_(metrics),
      now_(std::move(now)),
      wheel_(absl::ToUnixMillis(now_()), opts_.tick_ms) {
  if (opts_.owner.empty()) opts_.owner = "sla-" + NewUuid();
  if (opts_.lease_ttl < absl::Milliseconds(300)) opts_.lease_ttl = absl::Milliseconds(300);
}

SlaEngine::SlaEngine(RedisClient* redis, Outbox* outbox, IdempotentApplier* applier,
                     const PolicyTable* policies, SlaOptions opts, SlaMetrics* metrics,
                     std::function<absl::Time()> now)
    : SlaEngine(static_cast<SlaStore*>(nullptr), policies, std::move(opts), metrics,
                std::move(now)) {
  own_store_ = std::make_unique<RedisSlaStore>(redis, outbox, applier);
  store_ = own_store_.get();
}

SlaEngine::~SlaEngine() { Stop(); }

StoredClock SlaEngine::Stored(const ClockRecord& c) const {
  ClockMath math = calendars_.MathFor(c);
  return StoredClock{c, math.NextFire(c), math.Deadline(c)};
}

absl::Status SlaEngine::HandleEvent(const v1::EventEnvelope& e, const MessageMeta& meta) {
  std::optional<std::string> ticket = SlaTicketOf(e);
  if (!ticket) return absl::OkStatus();
  if (ticket->empty()) return absl::InvalidArgumentError("ticket_id: missing in the event");
  const absl::Time now = now_();
  std::vector<ClockRecord> written;
  auto change = [&](const TicketClockPair& clocks) {
    written = ClockTransitions(e, clocks, meta.partition, now, *policies_, calendars_);
    std::vector<StoredClock> out;
    for (const auto& c : written) out.push_back(Stored(c));
    return out;
  };
  auto applied = store_->ApplyEvent(e.event_id(), *ticket, change);
  if (!applied.ok()) return applied.status();
  if (*applied) {
    for (const auto& c : written) Schedule(c);
  }
  return absl::OkStatus();
}

void SlaEngine::Schedule(const ClockRecord& c) {
  absl::Time next = calendars_.MathFor(c).NextFire(c);
  absl::MutexLock l(&mu_);
  if (next == absl::InfiniteFuture() || !owned_.count(c.partition)) {
    UnscheduleLocked(c.Id());
  } else {
    ScheduleLocked(c.Id(), c.partition, absl::ToUnixMillis(next));
  }
  metrics_->Active(wheel_.size());
}

void SlaEngine::ScheduleLocked(const std::string& id, int32_t partition, int64_t due_ms,
                               int64_t at_ms) {
  UnscheduleLocked(id);
  uint32_t slot;
  if (!free_entries_.empty()) {
    slot = free_entries_.back();
    free_entries_.pop_back();
  } else {
    slot = static_cast<uint32_t>(entries_.size());
    entries_.push_back({});
  }
  entries_[slot] = Entry{id, partition, due_ms, wheel_.Add(at_ms < 0 ? due_ms : at_ms, slot), true};
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
  absl::MutexLock ll(&lease_mu_);
  for (const auto& [topic, p] : tps) {
    if (topic != kTickets) continue;
    {
      absl::MutexLock l(&mu_);
      assigned_.insert(p);
    }
    TryTake(p);
  }
}

void SlaEngine::OnRevoked(const TopicPartitionList& tps) {
  // Nothing is unloaded: a revocation is also what a broker outage looks like (the group session
  // times out), and the clocks must keep firing then. They move when another instance claims the
  // partition (MaintainLeases).
  absl::MutexLock l(&mu_);
  for (const auto& [topic, p] : tps) {
    if (topic == kTickets) assigned_.erase(p);
  }
}

void SlaEngine::TryTake(int32_t p) {
  auto got = store_->AcquireLease(p, opts_.owner, opts_.lease_ttl);
  if (!got.ok()) {
    LogWarn("SLA partition lease: store unreachable; trying again",
            {{"partition", P(p)}, {"error", std::string(got.status().message())}});
    return;
  }
  if (!*got) {
    // Someone else still fires this partition: tell them we have it now; they hand it over on
    // their next pass (or their lease runs out if they died).
    if (auto s = store_->Claim(p, opts_.owner, opts_.lease_ttl); !s.ok()) {
      LogWarn("SLA partition claim failed",
              {{"partition", P(p)}, {"error", std::string(s.message())}});
    }
    return;
  }
  (void)store_->DropClaim(p, opts_.owner);
  {
    absl::MutexLock l(&mu_);
    owned_.insert(p);  // before loading: a clock written meanwhile is scheduled by HandleEvent
    metrics_->Owned(owned_.size());
  }
  auto start = std::chrono::steady_clock::now();
  auto n = LoadPartition(p);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!n.ok()) {
    // Keep the lease, drop the half-loaded wheel: the next pass loads again.
    LogError("could not load SLA clocks of a partition",
             {{"partition", P(p)}, {"error", std::string(n.status().message())}});
    Unload(p, "load failed");
    return;
  }
  LogInfo("SLA clocks loaded", {{"partition", P(p)},
                                {"clocks", std::to_string(*n)},
                                {"seconds", std::to_string(secs)},
                                {"owner", opts_.owner}});
}

void SlaEngine::Unload(int32_t p, const char* why) {
  absl::MutexLock l(&mu_);
  if (!owned_.erase(p)) return;
  metrics_->Owned(owned_.size());
  std::vector<std::string> drop;
  for (const auto& [id, slot] : by_id_) {
    if (entries_[slot].partition == p) drop.push_back(id);
  }
  for (const auto& id : drop) UnscheduleLocked(id);
  metrics_->Active(wheel_.size());
  LogInfo("SLA clocks unloaded",
          {{"partition", P(p)}, {"clocks", std::to_string(drop.size())}, {"why", why}});
}

void SlaEngine::MaintainLeases() {
  absl::MutexLock ll(&lease_mu_);
  std::set<int32_t> owned, assigned;
  {
    absl::MutexLock l(&mu_);
    owned = owned_;
    assigned = assigned_;
  }
  for (int32_t p : owned) {
    if (!assigned.count(p)) {
      auto who = store_->Claimant(p);
      if (who.ok() && !who->empty() && *who != opts_.owner) {
        Unload(p, "claimed by another instance");
        if (auto s = store_->ReleaseLease(p, opts_.owner); !s.ok()) {
          // It expires on its own; the new owner waits at most lease_ttl.
          LogWarn("SLA lease release failed",
                  {{"partition", P(p)}, {"error", std::string(s.message())}});
        }
        LogInfo("SLA partition handed over", {{"partition", P(p)}, {"to", *who}});
        continue;
      }
    }
    auto kept = store_->AcquireLease(p, opts_.owner, opts_.lease_ttl);
    if (!kept.ok()) {
      // Firing needs the store too and its fence decides; nothing to do but try again.
      LogWarn("SLA lease renewal failed",
              {{"partition", P(p)}, {"error", std::string(kept.status().message())}});
      continue;
    }
    if (!*kept) Unload(p, "lease taken by another instance");
  }
  for (int32_t p : assigned) {
    if (!owned.count(p)) TryTake(p);
  }
}

std::set<int32_t> SlaEngine::OwnedPartitions() const {
  absl::MutexLock l(&mu_);
  return owned_;
}

absl::StatusOr<size_t> SlaEngine::LoadPartition(int32_t partition) {
  size_t loaded = 0;
  for (size_t start = 0;; start += kLoadChunk) {
    auto r = store_->DueClocks(partition, start, kLoadChunk);
    if (!r.ok()) return r.status();
    absl::MutexLock l(&mu_);
    if (!owned_.count(partition)) return loaded;  // handed over meanwhile
    for (const auto& [id, due_ms] : *r) {
      ScheduleLocked(id, partition, due_ms);
      ++loaded;
    }
    metrics_->Active(wheel_.size());
    if (r->size() < kLoadChunk) break;
  }
  return loaded;
}

absl::StatusOr<std::optional<ClockRecord>> SlaEngine::Fire(const std::string& clock_id,
                                                           int32_t partition, int64_t due_ms) {
  const absl::Time now = now_();
  std::optional<FireCommit> committed;
  int fired_point = -1;
  auto decide =
      [&](const ClockRecord& cur,
          const SlaStore::YellowCount& yellows) -> absl::StatusOr<std::optional<FireCommit>> {
    committed.reset();
    ClockMath math = calendars_.MathFor(cur);
    std::optional<int> point = DuePoint(cur, math, due_ms, now);
    if (!point) return std::optional<FireCommit>();
    ClockRecord c = cur;
    FireCommit fc;
    fc.events.push_back(PointEvent(c, math, *point));
    if (*point == 100)
      c.state = v1::CLOCK_STATE_BREACHED;  // keeps running: how late it is stays measurable
    if (EarnsCard(c, *point)) {
      auto n = yellows(c.department_id, now - opts_.red_card_window);
      if (!n.ok()) return n.status();
      fc.cards = CardsFor(c, *n, now, CardRule{opts_.red_card_yellows, opts_.red_card_window});
      for (const auto& card : fc.cards) fc.events.push_back(CardEvent(card, c.ticket_id));
    }
    ++c.next;
    fc.clock = Stored(c);
    fired_point = *point;
    committed = fc;
    return committed;
  };
  auto r = store_->Fire(clock_id, partition, opts_.owner, decide);
  if (!r.ok()) return r.status();
  if (*r == SlaStore::FireResult::kLeaseLapsed) {
    // Our lease ran out (renewals late: a stall, Redis slow) but nobody took the partition: take
    // it again rather than drop clocks that are due now. If someone is quicker, the fence holds.
    auto again = store_->AcquireLease(partition, opts_.owner, opts_.lease_ttl);
    if (again.ok() && *again) {
      LogWarn("SLA partition lease had lapsed; taken again", {{"partition", P(partition)}});
      r = store_->Fire(clock_id, partition, opts_.owner, decide);
      if (!r.ok()) return r.status();
    }
  }
  if (*r == SlaStore::FireResult::kNotOwner || *r == SlaStore::FireResult::kLeaseLapsed) {
    // Fenced: another instance holds the partition now. It fires this clock.
    Unload(partition, "lease lost while firing");
    return std::optional<ClockRecord>();
  }
  if (*r != SlaStore::FireResult::kCommitted || !committed) return std::optional<ClockRecord>();
  const ClockRecord& result = committed->clock.record;
  double lag = absl::ToDoubleSeconds(now_() - absl::FromUnixMillis(due_ms));
  metrics_->Lag(lag);
  if (opts_.observe_lag) opts_.observe_lag(lag);
  std::string type = TypeKey(result.type);
  if (fired_point < 100) metrics_->Warning(result.department_id, type);
  if (fired_point == 100) metrics_->Breach(result.department_id, type);
  for (const auto& card : committed->cards)
    metrics_->Card(card.color() == v1::CARD_COLOR_RED ? "red" : "yellow");
  return std::optional<ClockRecord>(result);
}

size_t SlaEngine::FireDue() {
  struct Due {
    std::string id;
    int32_t partition;
    int64_t due_ms;
  };
  std::vector<Due> due;
  {
    absl::MutexLock l(&mu_);
    wheel_.Advance(absl::ToUnixMillis(now_()), [&](uint32_t slot, int64_t) {
      Entry& e = entries_[slot];
      due.push_back({e.clock_id, e.partition, e.due_ms});
      by_id_.erase(e.clock_id);
      e.used = false;
      e.clock_id.clear();
      free_entries_.push_back(slot);
    });
  }
  size_t fired = 0;
  for (const auto& [id, partition, due_ms] : due) {
    auto r = Fire(id, partition, due_ms);
    if (!r.ok()) {
      // Redis unreachable: try again in a second; the clock is still due in Redis either way.
      // The retry keeps the point's due time, which Fire compares with the stored clock (with the
      // retry time there, the retry would look stale and the point would wait for a reload).
      LogWarn("SLA fire failed; retrying", {{"error", std::string(r.status().message())}});
      absl::MutexLock l(&mu_);
      if (owned_.count(partition))
        ScheduleLocked(id, partition, due_ms, absl::ToUnixMillis(now_()) + 1000);
      continue;
    }
    if (*r) {
      ++fired;
      Schedule(**r);
    }
  }
  if (!due.empty()) {
    absl::MutexLock l(&mu_);
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
  lease_thread_ = std::thread([this] {
    while (!stopping_.WaitForNotificationWithTimeout(opts_.lease_ttl / 3)) MaintainLeases();
  });
}

void SlaEngine::Stop() {
  if (stopped_.exchange(true)) return;
  stop_ = true;
  stopping_.Notify();
  if (thread_.joinable()) thread_.join();
  if (lease_thread_.joinable()) lease_thread_.join();
  ReleaseAll();
}

void SlaEngine::ReleaseAll() {
  absl::MutexLock ll(&lease_mu_);
  for (int32_t p : OwnedPartitions()) {
    Unload(p, "stopping");
    if (auto s = store_->ReleaseLease(p, opts_.owner); !s.ok()) {
      LogWarn("SLA lease release failed",
              {{"partition", P(p)}, {"error", std::string(s.message())}});
    }
  }
}

size_t SlaEngine::scheduled() const {
  absl::MutexLock l(&mu_);
  return wheel_.size();
}

absl::StatusOr<std::vector<v1::Clock>> SlaEngine::TicketClocks(const std::string& ticket_id) {
  if (ticket_id.empty()) return absl::InvalidArgumentError("ticket_id: is required");
  std::vector<v1::Clock> out;
  for (v1::ClockKind k : {v1::CLOCK_KIND_SIGN_FOR, v1::CLOCK_KIND_COMPLETION}) {
    auto c = store_->ReadClock(ClockIdOf(ticket_id, k));
    if (!c.ok()) return c.status();
    if (c->has_value()) out.push_back(calendars_.MathFor(**c).ToProto(**c, now_()));
  }
  if (out.empty()) return absl::NotFoundError(absl::StrCat("no SLA clocks for ticket ", ticket_id));
  return out;
}

absl::StatusOr<std::vector<v1::Clock>> SlaEngine::AtRisk(const std::string& dept, int min_percent,
                                                         size_t limit) {
  if (dept.empty()) return absl::InvalidArgumentError("department_id: is required");
  auto ids = store_->DepartmentClocks(dept, 1000);
  if (!ids.ok()) return ids.status();
  std::vector<v1::Clock> out;
  absl::Time now = now_();
  for (const auto& id : *ids) {
    auto c = store_->ReadClock(id);
    if (!c.ok()) return c.status();
    if (!c->has_value()) continue;
    auto proto = calendars_.MathFor(**c).ToProto(**c, now);
    if (proto.percent_elapsed() >= min_percent) out.push_back(proto);
  }
  std::sort(out.begin(), out.end(), [](const v1::Clock& a, const v1::Clock& b) {
    return a.percent_elapsed() > b.percent_elapsed();
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

absl::StatusOr<std::vector<v1::Card>> SlaEngine::Cards(const std::string& dept, absl::Time since,
                                                       size_t limit) {
  auto r = store_->RecentCards(10000);
  if (!r.ok()) return r.status();
  std::vector<v1::Card> out;
  for (auto& c : *r) {
    if (!dept.empty() && c.department_id() != dept) continue;
    if (FromTs(c.issued_at()) < since) continue;
    out.push_back(std::move(c));
    if (out.size() >= limit) break;
  }
  return out;
}

absl::StatusOr<v1::PreviewDeadlineResponse> SlaEngine::Preview(
    const v1::PreviewDeadlineRequest& req) {
  if (req.type() == v1::TICKET_TYPE_UNSPECIFIED)
    return absl::InvalidArgumentError("type: is required");
  const Policy* p = policies_->Find(
      req.type(), req.urgency() == v1::URGENCY_UNSPECIFIED ? v1::URGENCY_NORMAL : req.urgency());
  if (!p) return absl::NotFoundError("no SLA policy covers this type and urgency");
  absl::Time at = req.has_dispatched_at() ? FromTs(req.dispatched_at()) : now_();
  const WorkCalendar& cal =
      p->working_time ? calendars_.For(req.department_id()) : calendars_.For("", "24x7");
  v1::PreviewDeadlineResponse out;
  *out.mutable_sign_for_deadline() =
      ToTimestamp(p->working_time ? cal.AddWorkingTime(at, p->sign_for) : at + p->sign_for);
  *out.mutable_completion_deadline() =
      ToTimestamp(p->working_time ? cal.AddWorkingTime(at, p->completion) : at + p->completion);
  out.set_policy(absl::StrCat(p->name, " on calendar ", cal.name()));
  return out;
}

}  // namespace hotline::sla

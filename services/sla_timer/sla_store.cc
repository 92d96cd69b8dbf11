#include "services/sla_timer/sla_store.h"

#include <google/protobuf/util/time_util.h>

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/idempotent.h"
#include "services/common/lease.h"
#include "services/common/log.h"
#include "services/common/outbox.h"
#include "services/common/redis_client.h"

namespace hotline::sla {
namespace {

std::string DueKey(int32_t p) { return "sla:due:" + std::to_string(p); }
std::string DeptKey(const std::string& d) { return "sla:dept:" + d; }
std::string YellowKey(const std::string& d) { return "sla:yellow:" + d; }
std::string ClaimKey(int32_t p) { return "sla:claim:" + std::to_string(p); }
constexpr char kCardsKey[] = "sla:cards";

std::string Ms(absl::Time t) { return std::to_string(absl::ToUnixMillis(t)); }

std::vector<RedisCommand> WriteClock(const StoredClock& s) {
  const ClockRecord& c = s.record;
  RedisCommand hset = {"HSET", RedisSlaStore::ClockKey(c.Id())};
  for (auto& f : c.Fields()) hset.push_back(std::move(f));
  std::vector<RedisCommand> cmds = {hset};
  if (s.next_fire == absl::InfiniteFuture()) {
    cmds.push_back({"ZREM", DueKey(c.partition), c.Id()});
  } else {
    cmds.push_back({"ZADD", DueKey(c.partition), Ms(s.next_fire), c.Id()});
  }
  if (ClockIsOpen(c)) {
    cmds.push_back({"ZADD", DeptKey(c.department_id), Ms(s.deadline), c.Id()});
  } else {
    cmds.push_back({"ZREM", DeptKey(c.department_id), c.Id()});
  }
  return cmds;
}

absl::StatusOr<std::optional<ClockRecord>> ReadClockWith(const RedisClient::Reader& read,
                                                         const std::string& id) {
  auto r = read({"HGETALL", RedisSlaStore::ClockKey(id)});
  if (!r.ok()) return r.status();
  if (r->elements.empty()) return std::optional<ClockRecord>();
  std::map<std::string, std::string> f;
  for (size_t i = 0; i + 1 < r->elements.size(); i += 2)
    f[r->elements[i].str] = r->elements[i + 1].str;
  auto c = ClockRecord::FromFields(f);
  if (!c.ok()) return c.status();
  return std::optional<ClockRecord>(std::move(*c));
}

// A zset score as whole milliseconds ("1795599834598"; Redis may also print "1.7e+12").
bool ParseScoreMs(const std::string& s, int64_t* out) {
  if (absl::SimpleAtoi(s, out)) return true;
  double d = 0;
  if (!absl::SimpleAtod(s, &d) || !(d > -9.2e18 && d < 9.2e18)) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

}  // namespace

absl::StatusOr<bool> RedisSlaStore::ApplyEvent(const std::string& event_id,
                                               const std::string& ticket_id,
                                               const ChangeFn& change) {
  const std::string sign_id = ClockIdOf(ticket_id, v1::CLOCK_KIND_SIGN_FOR);
  const std::string done_id = ClockIdOf(ticket_id, v1::CLOCK_KIND_COMPLETION);
  auto plan = [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
    TicketClockPair pair;
    auto sign = ReadClockWith(read, sign_id);
    if (!sign.ok()) return sign.status();
    auto done = ReadClockWith(read, done_id);
    if (!done.ok()) return done.status();
    pair.sign = std::move(*sign);
    pair.done = std::move(*done);
    std::vector<RedisCommand> cmds;
    for (const auto& c : change(pair)) {
      auto w = WriteClock(c);
      cmds.insert(cmds.end(), w.begin(), w.end());
    }
    if (cmds.empty()) cmds.push_back({"PING"});  // nothing to change, but remember the event
    return cmds;
  };
  auto outcome = applier_->Apply(event_id, plan, {ClockKey(sign_id), ClockKey(done_id)});
  if (!outcome.ok()) return outcome.status();
  return *outcome == IdempotentApplier::Outcome::kApplied;
}

absl::StatusOr<SlaStore::FireResult> RedisSlaStore::Fire(const std::string& clock_id,
                                                         int32_t partition,
                                                         const std::string& owner,
                                                         const DecideFn& decide) {
  FireResult result = FireResult::kNothingDue;
  auto plan = [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
    result = FireResult::kNothingDue;
    // The fence: the lease is WATCHed with the clock, so a lease that changes hands between this
    // read and EXEC aborts the transaction and the next attempt sees the new owner.
    auto lease = read({"GET", LeaseKey(partition)});
    if (!lease.ok()) return lease.status();
    if (lease->IsNil() || lease->str != owner) {
      result = lease->IsNil() ? FireResult::kLeaseLapsed : FireResult::kNotOwner;
      return std::vector<RedisCommand>{};
    }
    auto cur = ReadClockWith(read, clock_id);
    if (!cur.ok()) return cur.status();
    if (!cur->has_value()) return std::vector<RedisCommand>{};
    YellowCount yellows = [&](const std::string& dept,
                              absl::Time since) -> absl::StatusOr<int64_t> {
      auto w = read({"WATCH", YellowKey(dept)});
      if (!w.ok()) return w.status();
      auto n = read({"ZCOUNT", YellowKey(dept), Ms(since), "+inf"});
      if (!n.ok()) return n.status();
      return n->integer;
    };
    auto commit = decide(**cur, yellows);
    if (!commit.ok()) return commit.status();
    if (!commit->has_value()) return std::vector<RedisCommand>{};
    const FireCommit& fc = **commit;
    std::vector<RedisCommand> cmds = WriteClock(fc.clock);
    for (const auto& card : fc.cards) {
      if (card.color() == v1::CARD_COLOR_YELLOW) {
        cmds.push_back({"ZADD", YellowKey(card.department_id()),
                        std::to_string(google::protobuf::util::TimeUtil::TimestampToMilliseconds(
                            card.issued_at())),
                        card.card_id()});
      }
    }
    for (const auto& card : fc.cards)
      cmds.push_back({"LPUSH", kCardsKey, card.SerializeAsString()});
    if (!fc.cards.empty()) cmds.push_back({"LTRIM", kCardsKey, "0", "99999"});
    auto append = outbox_->AppendCommand(fc.events);  // refuses oversized events
    if (!append.ok()) return append.status();
    cmds.push_back(*std::move(append));
    result = FireResult::kCommitted;
    return cmds;
  };
  auto r = redis_->WatchTransaction({ClockKey(clock_id), LeaseKey(partition)}, plan);
  if (!r.ok()) return r.status();
  if (result == FireResult::kCommitted) outbox_->NotifyCommitted();
  return result;
}

absl::StatusOr<std::optional<ClockRecord>> RedisSlaStore::ReadClock(const std::string& clock_id) {
  return ReadClockWith([this](const RedisCommand& c) { return redis_->Command(c); }, clock_id);
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> RedisSlaStore::DueClocks(
    int32_t partition, size_t offset, size_t limit) {
  auto r = redis_->Command({"ZRANGE", DueKey(partition), std::to_string(offset),
                            std::to_string(offset + limit - 1), "WITHSCORES"});
  if (!r.ok()) return r.status();
  std::vector<std::pair<std::string, int64_t>> out;
  out.reserve(r->elements.size() / 2);
  for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
    int64_t ms = 0;
    if (!ParseScoreMs(r->elements[i + 1].str, &ms)) {
      // Not ours to repair here; the clock's own hash is the truth and the next write fixes it.
      LogWarn("SLA due index entry with a malformed score skipped",
              {{"key", DueKey(partition)},
               {"clock", r->elements[i].str},
               {"score", r->elements[i + 1].str}});
      continue;
    }
    out.emplace_back(r->elements[i].str, ms);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> RedisSlaStore::DepartmentClocks(const std::string& dept,
                                                                         size_t limit) {
  auto r = redis_->Command({"ZRANGE", DeptKey(dept), "0", std::to_string(limit - 1)});
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  for (const auto& e : r->elements) out.push_back(e.str);
  return out;
}

absl::StatusOr<std::vector<v1::Card>> RedisSlaStore::RecentCards(size_t limit) {
  auto r = redis_->Command({"LRANGE", kCardsKey, "0", std::to_string(limit - 1)});
  if (!r.ok()) return r.status();
  std::vector<v1::Card> out;
  for (const auto& e : r->elements) {
    v1::Card c;
    if (c.ParseFromString(e.str)) out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<bool> RedisSlaStore::AcquireLease(int32_t partition, const std::string& owner,
                                                 absl::Duration ttl) {
  return AcquireOrRenewLease(*redis_, LeaseKey(partition), owner,
                             std::chrono::milliseconds(absl::ToInt64Milliseconds(ttl)));
}

absl::Status RedisSlaStore::ReleaseLease(int32_t partition, const std::string& owner) {
  return DeleteIfOwner(*redis_, LeaseKey(partition), owner);
}

absl::Status RedisSlaStore::Claim(int32_t partition, const std::string& owner, absl::Duration ttl) {
  return redis_
      ->Command(
          {"SET", ClaimKey(partition), owner, "PX", std::to_string(absl::ToInt64Milliseconds(ttl))})
      .status();
}

absl::StatusOr<std::string> RedisSlaStore::Claimant(int32_t partition) {
  auto r = redis_->Command({"GET", ClaimKey(partition)});
  if (!r.ok()) return r.status();
  return r->IsNil() ? std::string() : r->str;
}

absl::Status RedisSlaStore::DropClaim(int32_t partition, const std::string& owner) {
  return DeleteIfOwner(*redis_, ClaimKey(partition), owner);
}

}  // namespace hotline::sla

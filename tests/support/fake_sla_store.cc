#include "tests/support/fake_sla_store.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

namespace hotline::testing {

using sla::ClockRecord;
using sla::StoredClock;

absl::Status FakeSlaStore::Check() const {
  return down_ ? absl::UnavailableError("fake store: down") : absl::OkStatus();
}

void FakeSlaStore::WriteLocked(const StoredClock& s) {
  const ClockRecord& c = s.record;
  clocks_[c.Id()] = c;
  if (s.next_fire == absl::InfiniteFuture()) {
    due_[c.partition].erase(c.Id());
  } else {
    due_[c.partition][c.Id()] = absl::ToUnixMillis(s.next_fire);
  }
  if (sla::ClockIsOpen(c)) {
    dept_[c.department_id][c.Id()] = absl::ToUnixMillis(s.deadline);
  } else {
    dept_[c.department_id].erase(c.Id());
  }
}

absl::StatusOr<bool> FakeSlaStore::ApplyEvent(const std::string& event_id,
                                              const std::string& ticket_id,
                                              const ChangeFn& change) {
  absl::MutexLock l(&mu_);
  if (auto s = Check(); !s.ok()) return s;
  if (applied_.count(event_id)) return false;
  sla::TicketClockPair pair;
  auto get = [&](v1::ClockKind k) -> std::optional<ClockRecord> {
    auto it = clocks_.find(sla::ClockIdOf(ticket_id, k));
    if (it == clocks_.end()) return std::nullopt;
    return it->second;
  };
  pair.sign = get(v1::CLOCK_KIND_SIGN_FOR);
  pair.done = get(v1::CLOCK_KIND_COMPLETION);
  for (const auto& c : change(pair)) WriteLocked(c);
  applied_.insert(event_id);
  return true;
}

absl::StatusOr<sla::SlaStore::FireResult> FakeSlaStore::Fire(const std::string& clock_id,
                                                             int32_t partition,
                                                             const std::string& owner,
                                                             const DecideFn& decide) {
  absl::MutexLock l(&mu_);
  if (auto s = Check(); !s.ok()) return s;
  auto lease = leases_.find(partition);
  if (lease == leases_.end()) return FireResult::kLeaseLapsed;
  if (lease->second != owner) return FireResult::kNotOwner;
  auto it = clocks_.find(clock_id);
  if (it == clocks_.end()) return FireResult::kNothingDue;
  YellowCount yellows = [&](const std::string& dept, absl::Time since) -> absl::StatusOr<int64_t> {
    int64_t n = 0;
    for (int64_t ms : yellows_[dept]) n += ms >= absl::ToUnixMillis(since);
    return n;
  };
  auto commit = decide(it->second, yellows);
  if (!commit.ok()) return commit.status();
  if (!commit->has_value()) return FireResult::kNothingDue;
  WriteLocked((*commit)->clock);
  for (const auto& card : (*commit)->cards) {
    if (card.color() == v1::CARD_COLOR_YELLOW) {
      yellows_[card.department_id()].push_back(
          google::protobuf::util::TimeUtil::TimestampToMilliseconds(card.issued_at()));
    }
    cards_.insert(cards_.begin(), card);
  }
  outbox_.insert(outbox_.end(), (*commit)->events.begin(), (*commit)->events.end());
  return FireResult::kCommitted;
}

absl::StatusOr<std::optional<ClockRecord>> FakeSlaStore::ReadClock(const std::string& clock_id) {
  absl::MutexLock l(&mu_);
  if (auto s = Check(); !s.ok()) return s;
  auto it = clocks_.find(clock_id);
  if (it == clocks_.end()) return std::optional<ClockRecord>();
  return std::optional<ClockRecord>(it->second);
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> FakeSlaStore::DueClocks(
    int32_t partition, size_t offset, size_t limit) {
  absl::MutexLock l(&mu_);
  if (auto s = Check(); !s.ok()) return s;
  std::vector<std::pair<std::string, int64_t>> all(due_[partition].begin(), due_[partition].end());
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  std::vector<std::pair<std::string, int64_t>> out;
  for (size_t i = offset; i < all.size() && out.size() < limit; ++i) out.push_back(all[i]);
  return out;
}

absl::StatusOr<std::vector<std::string>> FakeSlaStore::DepartmentClocks(const std::string& dept,
                                                                        size_t limit) {
  absl::MutexLock l(&mu_);
  if (auto s = Check(); !s.ok()) return s;
  std::vector<std::pair<int64_t, std::string>> all;
  for (const auto& [id, ms] : dept_[dept]) all.emplace_back(ms, id);
  std::sort(all.begin(), all.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < all.size() && out.size() < limit; ++i) out.push_back(all[i].second);
  return out;
}

absl::StatusOr<std::vector<v1::Card>> FakeSlaStore::RecentCards(size_t limit) {
  absl::MutexLock l(&mu_);
  if (auto s = Check(); !s.ok()) return s;
  return std::vector<v1::Card>(cards_.begin(), cards_.begin() + std::min(limit, cards_.size()));
}

absl::StatusOr<bool> FakeSlaStore::AcquireLease(int32_t partition, const std::string& owner,
                                                absl::Duration) {
  absl::MutexLock l(&mu_);
  if (auto s = Check(); !s.ok()) return s;
  auto [it, inserted] = leases_.emplace(partition, owner);
  return inserted || it->second == owner;
}

absl::Status FakeSlaStore::ReleaseLease(int32_t partition, const std::string& owner) {
  absl::MutexLock l(&mu_);
  if (auto s = Check(); !s.ok()) return s;
  auto it = leases_.find(partition);
  if (it != leases_.end() && it->second == owner) leases_.erase(it);
  return absl::OkStatus();
}

absl::Status FakeSlaStore::Claim(int32_t partition, const std::string& owner, absl::Duration) {
  absl::MutexLock l(&mu_);
  if (auto s = Check(); !s.ok()) return s;
  claims_[partition] = owner;
  return absl::OkStatus();
}

absl::StatusOr<std::string> FakeSlaStore::Claimant(int32_t partition) {
  absl::MutexLock l(&mu_);
  if (auto s = Check(); !s.ok()) return s;
  auto it = claims_.find(partition);
  return it == claims_.end() ? std::string() : it->second;
}

absl::Status FakeSlaStore::DropClaim(int32_t partition, const std::string& owner) {
  absl::MutexLock l(&mu_);
  if (auto s = Check(); !s.ok()) return s;
  auto it = claims_.find(partition);
  if (it != claims_.end() && it->second == owner) claims_.erase(it);
  return absl::OkStatus();
}

std::vector<v1::EventEnvelope> FakeSlaStore::Outbox() const {
  absl::MutexLock l(&mu_);
  return outbox_;
}

std::string FakeSlaStore::LeaseHolder(int32_t partition) const {
  absl::MutexLock l(&mu_);
  auto it = leases_.find(partition);
  return it == leases_.end() ? std::string() : it->second;
}

void FakeSlaStore::ExpireLease(int32_t partition) {
  absl::MutexLock l(&mu_);
  leases_.erase(partition);
}

void FakeSlaStore::SetUnavailable(bool down) {
  absl::MutexLock l(&mu_);
  down_ = down;
}

}  // namespace hotline::testing

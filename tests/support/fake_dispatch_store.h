#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/dispatch/dispatch_store.h"

namespace hotline::testing {

// An in-memory DispatchStore for unit tests of dispatch's domain logic (DESIGN.md: a fake only
// for the domain; the Redis adapter is tested against redis-server). Writes are all or nothing,
// like the real store's MULTI/EXEC; `fail_writes` makes every write fail UNAVAILABLE without
// storing anything.
class FakeDispatchStore : public dispatch::DispatchStore {
 public:
  std::map<std::string, v1::DispatchedTicket> tickets;
  std::map<std::string, int64_t> triage;                    // id → enqueue time (ms)
  std::map<std::string, std::vector<std::string>> streams;  // department → ticket ids
  std::vector<dispatch::CorrectedLabel> labels;
  std::vector<v1::EventEnvelope> outbox;
  std::set<std::string> applied_events;
  int writes = 0;  // committed transactions
  bool fail_writes = false;

  absl::StatusOr<std::optional<v1::DispatchedTicket>> Get(const std::string& id) override {
    auto it = tickets.find(id);
    if (it == tickets.end()) return std::optional<v1::DispatchedTicket>();
    return std::optional<v1::DispatchedTicket>(it->second);
  }

  absl::StatusOr<v1::DispatchedTicket> Mutate(const std::string& id,
                                              const Mutation& mutate) override {
    if (id.empty()) return absl::InvalidArgumentError("ticket_id: is required");
    auto it = tickets.find(id);
    if (it == tickets.end())
      return absl::NotFoundError(absl::StrCat("no ticket ", id, " in dispatch"));
    v1::DispatchedTicket t = it->second;
    auto change = mutate(t);
    if (!change.ok()) return change.status();
    if (fail_writes) return absl::UnavailableError("fake store: write failed");
    t.set_version(t.version() + 1);
    for (auto& e : change->events) e.set_aggregate_version(t.version());
    Commit(t, *change);
    return t;
  }

  absl::StatusOr<bool> CreateOnce(const std::string& event_id, const v1::DispatchedTicket& t,
                                  const dispatch::Change& change) override {
    if (applied_events.count(event_id) || tickets.count(t.ticket_id())) return false;
    if (fail_writes) return absl::UnavailableError("fake store: write failed");
    applied_events.insert(event_id);
    Commit(t, change);
    return true;
  }

  absl::StatusOr<std::vector<v1::DispatchedTicket>> ListTriage(size_t offset,
                                                               size_t limit) override {
    std::vector<std::pair<int64_t, std::string>> order;
    for (const auto& [id, at] : triage) order.emplace_back(at, id);
    std::sort(order.begin(), order.end());
    std::vector<v1::DispatchedTicket> out;
    for (size_t i = offset; i < order.size() && out.size() < limit; ++i)
      out.push_back(tickets[order[i].second]);
    return out;
  }

 private:
  void Commit(const v1::DispatchedTicket& t, const dispatch::Change& change) {
    tickets[t.ticket_id()] = t;
    if (change.enqueue_triage) triage[t.ticket_id()] = absl::ToUnixMillis(*change.enqueue_triage);
    if (change.dequeue_triage) triage.erase(t.ticket_id());
    if (!change.assign_to.empty()) streams[change.assign_to].push_back(t.ticket_id());
    labels.insert(labels.end(), change.labels.begin(), change.labels.end());
    outbox.insert(outbox.end(), change.events.begin(), change.events.end());
    ++writes;
  }
};

}  // namespace hotline::testing

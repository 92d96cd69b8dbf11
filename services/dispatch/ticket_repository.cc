#include "services/dispatch/ticket_repository.h"

#include "absl/strings/str_cat.h"

namespace hotline::dispatch {

RedisCommand TicketRepository::Put(const v1::DispatchedTicket& t) {
  return {"SET", TicketKey(t.ticket_id()), t.SerializeAsString()};
}

absl::StatusOr<v1::DispatchedTicket> TicketRepository::Parse(const std::string& record) {
  v1::DispatchedTicket t;
  if (!t.ParseFromString(record)) return absl::DataLossError("dispatch ticket record is corrupt");
  return t;
}

std::vector<RedisCommand> TicketRepository::ChangeCommands(const std::string& id,
                                                           const Change& change) {
  std::vector<RedisCommand> cmds;
  if (change.enqueue_triage) {
    cmds.push_back(
        {"ZADD", kTriageKey, std::to_string(absl::ToUnixMillis(*change.enqueue_triage)), id});
  }
  if (change.dequeue_triage) cmds.push_back({"ZREM", kTriageKey, id});
  if (!change.assign_to.empty())
    cmds.push_back({"XADD", DepartmentStream(change.assign_to), "*", "ticket", id});
  for (const auto& l : change.labels) {
    std::string clean;
    for (char c : l.text) clean.push_back(c == '\t' || c == '\n' || c == '\r' ? ' ' : c);
    cmds.push_back({"RPUSH", kLabelsKey, absl::StrCat(l.label, "\t", clean, "\t", l.source)});
  }
  return cmds;
}

absl::StatusOr<std::optional<v1::DispatchedTicket>> TicketRepository::Get(const std::string& id) {
  auto r = redis_->Command({"GET", TicketKey(id)});
  if (!r.ok()) return r.status();
  if (r->IsNil()) return std::optional<v1::DispatchedTicket>();
  auto t = Parse(r->str);
  if (!t.ok()) return t.status();
  return std::optional<v1::DispatchedTicket>(std::move(*t));
}

absl::StatusOr<v1::DispatchedTicket> TicketRepository::Mutate(const std::string& id,
                                                              const Mutation& mutate) {
  if (id.empty()) return absl::InvalidArgumentError("ticket_id: is required");
  v1::DispatchedTicket result;
  bool changed = false;
  auto r = redis_->WatchTransaction(
      {TicketKey(id)},
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        auto cur = read({"GET", TicketKey(id)});
        if (!cur.ok()) return cur.status();
        if (cur->IsNil())
          return absl::NotFoundError(absl::StrCat("no ticket ", id, " in dispatch"));
        auto t = Parse(cur->str);
        if (!t.ok()) return t.status();
        auto change = mutate(*t);
        if (!change.ok()) return change.status();
        t->set_version(t->version() + 1);
        for (auto& e : change->events) e.set_aggregate_version(t->version());
        std::vector<RedisCommand> cmds = {Put(*t)};
        auto extra = ChangeCommands(id, *change);
        cmds.insert(cmds.end(), extra.begin(), extra.end());
        if (!change->events.empty()) {
          auto append = outbox_->AppendCommand(change->events);  // refuses oversized events
          if (!append.ok()) return append.status();
          cmds.push_back(*std::move(append));
        }
        result = *t;
        changed = true;
        return cmds;
      });
  if (!r.ok()) return r.status();
  if (changed) outbox_->NotifyCommitted();
  return result;
}

absl::StatusOr<bool> TicketRepository::CreateOnce(const std::string& event_id,
                                                  const v1::DispatchedTicket& t,
                                                  const Change& change) {
  bool written = false;
  auto outcome = applier_->Apply(
      event_id,
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        written = false;
        auto existing = read({"EXISTS", TicketKey(t.ticket_id())});
        if (!existing.ok()) return existing.status();
        if (existing->integer == 1) return std::vector<RedisCommand>{};  // already routed
        std::vector<RedisCommand> cmds = {Put(t)};
        auto extra = ChangeCommands(t.ticket_id(), change);
        cmds.insert(cmds.end(), extra.begin(), extra.end());
        if (!change.events.empty()) {
          auto append = outbox_->AppendCommand(change.events);  // refuses oversized events
          if (!append.ok()) return append.status();
          cmds.push_back(*std::move(append));
        }
        written = true;
        return cmds;
      },
      {TicketKey(t.ticket_id())});
  if (!outcome.ok()) return outcome.status();
  written = written && *outcome == IdempotentApplier::Outcome::kApplied;
  if (written) outbox_->NotifyCommitted();
  return written;
}

absl::StatusOr<std::vector<v1::DispatchedTicket>> TicketRepository::ListTriage(size_t offset,
                                                                               size_t limit) {
  auto ids = redis_->Command(
      {"ZRANGE", kTriageKey, std::to_string(offset), std::to_string(offset + limit - 1)});
  if (!ids.ok()) return ids.status();
  std::vector<RedisCommand> gets;
  for (const auto& e : ids->elements) gets.push_back({"GET", TicketKey(e.str)});
  std::vector<v1::DispatchedTicket> out;
  if (gets.empty()) return out;
  auto replies = redis_->Pipeline(gets);
  if (!replies.ok()) return replies.status();
  for (const auto& r : *replies) {
    v1::DispatchedTicket t;
    if (!r.IsNil() && t.ParseFromString(r.str)) out.push_back(std::move(t));
  }
  return out;
}

}  // namespace hotline::dispatch

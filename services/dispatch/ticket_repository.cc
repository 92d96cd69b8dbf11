#include "services/dispatch/ticket_repository.h"

#include "absl/strings/str_cat.h"

namespace hotline::dispatch {

RedisCommand TicketRepository::Put(const v1::DispatchedTicket& t) {
  return {"SET", TicketKey(t.ticket_id()), t.SerializeAsString()};
}

absl::StatusOr<std::optional<v1::DispatchedTicket>> TicketRepository::Get(const std::string& id) {
  auto r = redis_->Command({"GET", TicketKey(id)});
  if (!r.ok()) return r.status();
  if (r->IsNil()) return std::optional<v1::DispatchedTicket>();
  v1::DispatchedTicket t;
  if (!t.ParseFromString(r->str)) return absl::DataLossError("dispatch ticket record is corrupt");
  return std::optional<v1::DispatchedTicket>(std::move(t));
}

absl::StatusOr<v1::DispatchedTicket> TicketRepository::Mutate(const std::string& id, const Mutation& mutate) {
  if (id.empty()) return absl::InvalidArgumentError("ticket_id: is required");
  v1::DispatchedTicket result;
  bool changed = false;
  auto r = redis_->WatchTransaction(
      {TicketKey(id)}, [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        auto cur = read({"GET", TicketKey(id)});
        if (!cur.ok()) return cur.status();
        if (cur->IsNil()) return absl::NotFoundError(absl::StrCat("no ticket ", id, " in dispatch"));
        v1::DispatchedTicket t;
        if (!t.ParseFromString(cur->str)) return absl::DataLossError("dispatch ticket record is corrupt");
        auto change = mutate(t);
        if (!change.ok()) return change.status();
        t.set_version(t.version() + 1);
        for (auto& e : change->events) e.set_aggregate_version(t.version());
        std::vector<RedisCommand> cmds = {Put(t)};
        cmds.insert(cmds.end(), change->extra.begin(), change->extra.end());
        if (!change->events.empty()) {
          auto append = outbox_->AppendCommand(change->events);  // refuses oversized events
          if (!append.ok()) return append.status();
          cmds.push_back(*std::move(append));
        }
        result = t;
        changed = true;
        return cmds;
      });
  if (!r.ok()) return r.status();
  if (changed) outbox_->NotifyCommitted();
  return result;
}

absl::StatusOr<std::vector<v1::DispatchedTicket>> TicketRepository::ListTriage(size_t offset, size_t limit) {
  auto ids = redis_->Command({"ZRANGE", kTriageKey, std::to_string(offset), std::to_string(offset + limit - 1)});
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

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> TicketRepository::Assignments(
    const std::string& dept, const std::string& cursor, size_t limit) {
  auto r = redis_->Command({"XRANGE", DepartmentStream(dept), cursor.empty() ? "-" : "(" + cursor, "+",
                            "COUNT", std::to_string(limit)});
  if (!r.ok()) return r.status();
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : r->elements) {
    if (entry.elements.size() != 2) continue;
    const auto& fields = entry.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str == "ticket") out.emplace_back(entry.elements[0].str, fields[i + 1].str);
    }
  }
  return out;
}

}  // namespace hotline::dispatch

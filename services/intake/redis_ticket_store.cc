#include "services/intake/redis_ticket_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace hotline::intake {
namespace {

constexpr int64_t kIdempotencyTtlSeconds = 30 * 24 * 3600;  // 30 days
constexpr int64_t kSequenceTtlSeconds = 3 * 24 * 3600;

std::string TicketKey(const std::string& id) { return "intake:t:" + id; }
std::string NumberKey(const std::string& n) { return "intake:n:" + n; }
std::string IdemKey(const std::string& k) { return "intake:idem:" + k; }
std::string CitizenKey(const std::string& c) { return "intake:c:" + c; }
std::string PlaceIndexKey(const std::string& p) { return "intake:p:" + p; }
std::string ProgressKey(const std::string& id) { return "intake:tl:" + id; }
constexpr char kCreatedKey[] = "intake:created";

std::string Millis(absl::Time t) { return std::to_string(absl::ToUnixMillis(t)); }

RedisCommand HashWrite(const TicketRecord& r) {
  return {"HSET",   TicketKey(r.ticket.ticket_id()),
          "pb",     r.ticket.SerializeAsString(),
          "phone",  r.phone,
          "name",   r.name,
          "email",  r.email,
          "wechat", r.wechat_openid,
          "code",   r.verification_code,
          "norm",   r.normalized_text,
          "place",  r.place_key,
          "skeys",  absl::StrJoin(r.supplement_keys, "\n"),
          "v",      std::to_string(r.version)};
}

absl::StatusOr<TicketRecord> FromHash(const RedisReply& reply) {
  TicketRecord r;
  bool have_pb = false;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    const std::string& f = reply.elements[i].str;
    const std::string& v = reply.elements[i + 1].str;
    if (f == "pb") {
      if (!r.ticket.ParseFromString(v))
        return absl::DataLossError("intake ticket record is corrupt");
      have_pb = true;
    } else if (f == "phone")
      r.phone = v;
    else if (f == "name")
      r.name = v;
    else if (f == "email")
      r.email = v;
    else if (f == "wechat")
      r.wechat_openid = v;
    else if (f == "code")
      r.verification_code = v;
    else if (f == "norm")
      r.normalized_text = v;
    else if (f == "place")
      r.place_key = v;
    else if (f == "skeys") {
      if (!v.empty()) r.supplement_keys = absl::StrSplit(v, '\n');
    } else if (f == "v" && !absl::SimpleAtoi(v, &r.version)) {
      return absl::DataLossError("intake ticket record has a malformed version");
    }
  }
  if (!have_pb) return absl::NotFoundError("no such ticket");
  return r;
}

// The progress as GET returned it (nil: nothing heard yet).
absl::Status ParseProgress(const RedisReply& reply, v1::Ticket* out) {
  out->Clear();
  if (reply.IsNil()) return absl::OkStatus();
  if (!out->ParseFromString(reply.str)) return absl::DataLossError("intake progress is corrupt");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<std::string>> RedisTicketStore::FindByIdempotencyKey(
    const std::string& key) {
  auto r = redis_->Command({"GET", IdemKey(key)});
  if (!r.ok()) return r.status();
  if (r->IsNil()) return std::optional<std::string>();
  return std::optional<std::string>(r->str);
}

absl::StatusOr<std::optional<TicketRecord>> RedisTicketStore::Get(const std::string& id_or_number) {
  std::string id = id_or_number;
  if (id.find('-') != std::string::npos && id.size() < 30) {  // a readable number, not a UUID
    auto r = redis_->Command({"GET", NumberKey(id_or_number)});
    if (!r.ok()) return r.status();
    if (r->IsNil()) return std::optional<TicketRecord>();
    id = r->str;
  }
  auto r = redis_->Pipeline({{"HGETALL", TicketKey(id)}, {"GET", ProgressKey(id)}});
  if (!r.ok()) return r.status();
  if ((*r)[0].elements.empty()) return std::optional<TicketRecord>();
  auto rec = FromHash((*r)[0]);
  if (!rec.ok()) return rec.status();
  if (auto s = ParseProgress((*r)[1], &rec->progress); !s.ok()) return s;
  return std::optional<TicketRecord>(std::move(*rec));
}

absl::StatusOr<int64_t> RedisTicketStore::NextSequence(const std::string& local_date) {
  std::string key = "intake:seq:" + local_date;
  auto r = redis_->Pipeline({{"INCR", key}, {"EXPIRE", key, std::to_string(kSequenceTtlSeconds)}});
  if (!r.ok()) return r.status();
  return (*r)[0].integer;
}

absl::StatusOr<std::vector<TicketRecord>> RedisTicketStore::GetMany(
    const std::vector<std::string>& ids) {
  std::vector<RedisCommand> cmds;
  for (const auto& id : ids) {
    cmds.push_back({"HGETALL", TicketKey(id)});
    cmds.push_back({"GET", ProgressKey(id)});
  }
  std::vector<TicketRecord> out;
  if (cmds.empty()) return out;
  auto replies = redis_->Pipeline(cmds);
  if (!replies.ok()) return replies.status();
  for (size_t i = 0; i + 1 < replies->size(); i += 2) {
    const RedisReply& r = (*replies)[i];
    if (r.elements.empty()) continue;  // expired or never written
    auto rec = FromHash(r);
    if (!rec.ok()) continue;
    // A corrupt progress shows the ticket as intake knows it rather than hiding it.
    if (!ParseProgress((*replies)[i + 1], &rec->progress).ok()) rec->progress.Clear();
    out.push_back(std::move(*rec));
  }
  return out;
}

absl::StatusOr<std::vector<TicketRecord>> RedisTicketStore::Recent(const std::string& citizen_id,
                                                                   const std::string& place_key,
                                                                   absl::Time since, size_t limit,
                                                                   IndexSnapshot* snapshot) {
  std::vector<RedisCommand> cmds;
  std::string lim = std::to_string(limit);
  // The index sizes first: anything added after them makes Create re-check.
  auto sizes = redis_->Pipeline({{"ZCARD", CitizenKey(citizen_id.empty() ? "-" : citizen_id)},
                                 {"ZCARD", PlaceIndexKey(place_key.empty() ? "-" : place_key)}});
  if (!sizes.ok()) return sizes.status();
  if (snapshot) *snapshot = {true, (*sizes)[0].integer, (*sizes)[1].integer};
  if (!citizen_id.empty()) {
    cmds.push_back(
        {"ZREVRANGEBYSCORE", CitizenKey(citizen_id), "+inf", Millis(since), "LIMIT", "0", lim});
  }
  if (!place_key.empty()) {
    cmds.push_back(
        {"ZREVRANGEBYSCORE", PlaceIndexKey(place_key), "+inf", Millis(since), "LIMIT", "0", lim});
  }
  if (cmds.empty()) return std::vector<TicketRecord>();
  auto replies = redis_->Pipeline(cmds);
  if (!replies.ok()) return replies.status();
  std::vector<std::string> ids;
  for (const auto& r : *replies) {
    for (const auto& e : r.elements) {
      if (std::find(ids.begin(), ids.end(), e.str) == ids.end()) ids.push_back(e.str);
    }
  }
  auto recs = GetMany(ids);
  if (!recs.ok()) return recs.status();
  std::sort(recs->begin(), recs->end(), [](const TicketRecord& a, const TicketRecord& b) {
    return a.ticket.created_at().seconds() > b.ticket.created_at().seconds();
  });
  return recs;
}

absl::StatusOr<std::string> RedisTicketStore::Create(const TicketRecord& rec,
                                                     const std::string& idempotency_key,
                                                     const std::vector<v1::EventEnvelope>& events,
                                                     const IndexSnapshot& seen) {
  const v1::Ticket& t = rec.ticket;
  const std::string citizen_index =
      CitizenKey(t.contact().citizen_id().empty() ? "-" : t.contact().citizen_id());
  const std::string place_index = PlaceIndexKey(rec.place_key.empty() ? "-" : rec.place_key);
  std::string holder;
  auto result = redis_->WatchTransaction(
      {IdemKey(idempotency_key), citizen_index, place_index},
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        auto existing = read({"GET", IdemKey(idempotency_key)});
        if (!existing.ok()) return existing.status();
        if (!existing->IsNil()) {
          holder = existing->str;
          return std::vector<RedisCommand>{};
        }
        auto c = read({"ZCARD", citizen_index});
        if (!c.ok()) return c.status();
        auto p = read({"ZCARD", place_index});
        if (!p.ok()) return p.status();
        if (seen.taken && (c->integer != seen.citizen || p->integer != seen.place)) {
          return absl::AbortedError(
              "a ticket of the same citizen or place arrived meanwhile; re-check duplicates");
        }
        std::string ms =
            std::to_string(t.created_at().seconds() * 1000 + t.created_at().nanos() / 1000000);
        std::vector<RedisCommand> cmds = {
            {"SET", IdemKey(idempotency_key), t.ticket_id(), "EX",
             std::to_string(kIdempotencyTtlSeconds)},
            HashWrite(rec),
            {"SET", NumberKey(t.ticket_number()), t.ticket_id()},
            {"ZADD", kCreatedKey, ms, t.ticket_id()},
        };
        if (!t.contact().citizen_id().empty()) {
          cmds.push_back({"ZADD", CitizenKey(t.contact().citizen_id()), ms, t.ticket_id()});
        }
        if (!rec.place_key.empty()) {
          cmds.push_back({"ZADD", PlaceIndexKey(rec.place_key), ms, t.ticket_id()});
          cmds.push_back({"EXPIRE", PlaceIndexKey(rec.place_key), std::to_string(30 * 24 * 3600)});
        }
        if (!events.empty()) {
          auto append = outbox_->AppendCommand(events);  // refuses oversized events
          if (!append.ok()) return append.status();
          cmds.push_back(*std::move(append));
        }
        return cmds;
      });
  if (!result.ok()) return result.status();
  if (!holder.empty()) return holder;
  outbox_->NotifyCommitted();
  return t.ticket_id();
}

absl::Status RedisTicketStore::Update(const TicketRecord& rec, int64_t expected_version,
                                      const std::vector<v1::EventEnvelope>& events) {
  std::string key = TicketKey(rec.ticket.ticket_id());
  std::string progress_key = ProgressKey(rec.ticket.ticket_id());
  bool stale = false;
  auto result = redis_->WatchTransaction(
      {key, progress_key},
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        auto v = read({"HGET", key, "v"});
        if (!v.ok()) return v.status();
        int64_t stored = 0;
        if (v->IsNil() || !absl::SimpleAtoi(v->str, &stored) || stored != expected_version) {
          stale = true;
          return std::vector<RedisCommand>{};
        }
        // Every progress change adds a timeline entry, so the count tells whether it moved.
        auto p = read({"GET", progress_key});
        if (!p.ok()) return p.status();
        v1::Ticket progress;
        if (auto s = ParseProgress(*p, &progress); !s.ok()) return s;
        if (progress.timeline_size() != rec.progress.timeline_size()) {
          stale = true;
          return std::vector<RedisCommand>{};
        }
        std::vector<RedisCommand> cmds = {HashWrite(rec)};
        if (!events.empty()) {
          auto append = outbox_->AppendCommand(events);  // refuses oversized events
          if (!append.ok()) return append.status();
          cmds.push_back(*std::move(append));
        }
        return cmds;
      });
  if (!result.ok()) return result.status();
  if (stale) return absl::AbortedError("ticket changed meanwhile; retry");
  outbox_->NotifyCommitted();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TicketRecord>> RedisTicketStore::ListByCitizen(
    const std::string& citizen_id, size_t offset, size_t limit) {
  auto r = redis_->Command({"ZREVRANGE", CitizenKey(citizen_id), std::to_string(offset),
                            std::to_string(offset + limit - 1)});
  if (!r.ok()) return r.status();
  std::vector<std::string> ids;
  for (const auto& e : r->elements) ids.push_back(e.str);
  return GetMany(ids);
}

absl::StatusOr<std::vector<TicketRecord>> RedisTicketStore::ListCreated(absl::Time from,
                                                                        absl::Time to,
                                                                        size_t limit) {
  auto r = redis_->Command({"ZRANGEBYSCORE", kCreatedKey, Millis(from), "(" + Millis(to), "LIMIT",
                            "0", std::to_string(limit)});
  if (!r.ok()) return r.status();
  std::vector<std::string> ids;
  for (const auto& e : r->elements) ids.push_back(e.str);
  return GetMany(ids);
}

absl::StatusOr<TicketStore::ProgressOutcome> RedisTicketStore::ApplyProgress(
    const v1::EventEnvelope& event, const std::string& ticket_id,
    const std::function<bool(v1::Ticket*)>& change) {
  if (applier_ == nullptr) return absl::FailedPreconditionError("store has no event applier");
  const std::string key = TicketKey(ticket_id);
  const std::string progress_key = ProgressKey(ticket_id);
  ProgressOutcome outcome = ProgressOutcome::kApplied;
  auto r = applier_->Apply(
      event,
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        outcome = ProgressOutcome::kApplied;
        auto exists = read({"EXISTS", key});
        if (!exists.ok()) return exists.status();
        if (exists->integer == 0) {
          outcome = ProgressOutcome::kUnknownTicket;
          return std::vector<RedisCommand>{};
        }
        auto p = read({"GET", progress_key});
        if (!p.ok()) return p.status();
        v1::Ticket progress;
        if (auto s = ParseProgress(*p, &progress); !s.ok()) return s;
        if (!change(&progress)) {
          outcome = ProgressOutcome::kUnchanged;
          return std::vector<RedisCommand>{};
        }
        return std::vector<RedisCommand>{{"SET", progress_key, progress.SerializeAsString()}};
      },
      {key, progress_key});
  if (!r.ok()) return r.status();
  if (*r == IdempotentApplier::Outcome::kDuplicate) return ProgressOutcome::kDuplicate;
  if (*r == IdempotentApplier::Outcome::kStale) return ProgressOutcome::kStale;
  return outcome;
}

}  // namespace hotline::intake

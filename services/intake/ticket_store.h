#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hotline/v1/events.pb.h"
#include "hotline/v1/intake.pb.h"

namespace hotline::intake {

// A ticket with the personal data only intake keeps. Nothing here leaves intake except through
// the masked fields of `ticket`.
struct TicketRecord {
  v1::Ticket ticket;
  std::string phone;  // canonical (validation.h NormalizePhone), in clear
  std::string name;
  std::string email;
  std::string wechat_openid;
  std::string verification_code;
  std::string normalized_text;               // for duplicate matching
  std::string place_key;                     // identity.h PlaceKey, "" without an address
  std::vector<std::string> supplement_keys;  // idempotency keys of applied supplements
  int64_t version = 0;                       // the aggregate version of the last event
  // What other services' events told about the ticket (timeline.h TimelineRules), kept apart
  // from the record so the consumer never rewrites what citizens and call-takers change.
  v1::Ticket progress;
};

// Where intake keeps tickets (DESIGN.md house style 2: an interface at the edge; RedisTicketStore
// is the adapter). Every write carries its events, written atomically with the state.
class TicketStore {
 public:
  virtual ~TicketStore() = default;

  virtual absl::StatusOr<std::optional<std::string>> FindByIdempotencyKey(
      const std::string& key) = 0;
  // By internal id or by readable number.
  virtual absl::StatusOr<std::optional<TicketRecord>> Get(const std::string& id_or_number) = 0;
  // The next number of the day's sequence (1, 2, ...), shared by every instance.
  virtual absl::StatusOr<int64_t> NextSequence(const std::string& local_date) = 0;
  // What the duplicate check saw: the sizes of the citizen's and the place's indexes. Create
  // refuses (ABORTED) when either grew meanwhile, so two near-identical reports filed at the
  // same instant cannot both become originals: the second is re-checked and merged.
  struct IndexSnapshot {
    bool taken = false;  // false: no duplicate check was made (a direct answer), nothing to guard
    int64_t citizen = 0;
    int64_t place = 0;
  };
  // Tickets of this citizen or at this place created since `since`, newest first.
  virtual absl::StatusOr<std::vector<TicketRecord>> Recent(const std::string& citizen_id,
                                                           const std::string& place_key,
                                                           absl::Time since, size_t limit,
                                                           IndexSnapshot* snapshot) = 0;
  // Stores a new ticket, its indexes and `events` in one transaction, unless the idempotency key
  // was claimed meanwhile: then nothing is written and the holder's ticket id is returned.
  virtual absl::StatusOr<std::string> Create(const TicketRecord& rec,
                                             const std::string& idempotency_key,
                                             const std::vector<v1::EventEnvelope>& events,
                                             const IndexSnapshot& seen) = 0;
  // Replaces a ticket if its version is still `expected_version` and its progress has not moved
  // since `rec` was read (ABORTED otherwise): a withdrawal checked against "not replied" must
  // not commit after a reply arrived.
  virtual absl::Status Update(const TicketRecord& rec, int64_t expected_version,
                              const std::vector<v1::EventEnvelope>& events) = 0;
  virtual absl::StatusOr<std::vector<TicketRecord>> ListByCitizen(const std::string& citizen_id,
                                                                  size_t offset, size_t limit) = 0;
  enum class ProgressOutcome { kApplied, kUnchanged, kUnknownTicket, kDuplicate, kStale };
  // Applies another service's event to the ticket's progress, once: `change` edits the stored
  // progress and returns whether it changed anything; the change and the record that `event`
  // was applied are written together. kUnknownTicket when intake has no such ticket.
  virtual absl::StatusOr<ProgressOutcome> ApplyProgress(
      const v1::EventEnvelope& event, const std::string& ticket_id,
      const std::function<bool(v1::Ticket*)>& change) = 0;
  // Tickets created in [from, to), oldest first (Open311 queries).
  virtual absl::StatusOr<std::vector<TicketRecord>> ListCreated(absl::Time from, absl::Time to,
                                                                size_t limit) = 0;
};

}  // namespace hotline::intake

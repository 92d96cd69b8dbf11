#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hotline/v1/dispatch.pb.h"
#include "services/dispatch/rules.h"

namespace hotline::dispatch {

// Where dispatch keeps its tickets (DESIGN.md house style 2: an interface at the edge;
// TicketRepository is the Redis adapter, tests/support/fake_dispatch_store.h the fake). Every
// write stores the ticket and its Change (events, triage queue, department stream, labels) in
// one transaction.
class DispatchStore {
 public:
  virtual ~DispatchStore() = default;

  virtual absl::StatusOr<std::optional<v1::DispatchedTicket>> Get(const std::string& id) = 0;

  // Reads the ticket (NOT_FOUND when absent), lets `mutate` change it or refuse with a status,
  // then writes it with version+1 (the events get that aggregate version) and the Change,
  // atomically; a concurrent writer makes it read and mutate again.
  using Mutation = std::function<absl::StatusOr<Change>(v1::DispatchedTicket&)>;
  virtual absl::StatusOr<v1::DispatchedTicket> Mutate(const std::string& id,
                                                      const Mutation& mutate) = 0;

  // Stores a new ticket and its first Change once per consumed event (`event_id`), and only if
  // no ticket with its id exists. True when it was written now.
  virtual absl::StatusOr<bool> CreateOnce(const std::string& event_id,
                                          const v1::DispatchedTicket& t, const Change& change) = 0;

  // Tickets waiting for a human dispatcher, oldest first.
  virtual absl::StatusOr<std::vector<v1::DispatchedTicket>> ListTriage(size_t offset,
                                                                       size_t limit) = 0;
};

}  // namespace hotline::dispatch

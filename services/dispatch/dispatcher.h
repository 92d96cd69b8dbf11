#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hotline/v1/dispatch.pb.h"
#include "hotline/v1/events.pb.h"
#include "services/dispatch/dispatch_metrics.h"
#include "services/dispatch/dispatch_store.h"
#include "services/dispatch/lifecycle.h"
#include "services/dispatch/model_holder.h"
#include "services/dispatch/responsibility.h"
#include "services/dispatch/rules.h"

namespace hotline::dispatch {

struct DispatchOptions {
  // Auto-dispatch when the top probability reaches this; < 0 means "the model's recommended
  // threshold" (chosen by the training tool for the target precision).
  double threshold = -1;
  int suggestions = 3;
  // A negative survey (satisfaction ≤ this, or not resolved) reopens the ticket.
  int reopen_satisfaction_at_most = 2;
};

// Classifies and routes new tickets and runs their life with the departments: the rules
// (rules.h) applied inside one store transaction each (the ticket, its indexes and its events),
// plus metrics. Knows no Redis: the store is injected (TicketRepository in the service, a fake
// in unit tests).
class Dispatcher {
 public:
  Dispatcher(DispatchStore* store, ModelHolder* models, const ResponsibilityMatrix* matrix,
             DispatchMetrics* metrics, DispatchOptions opts,
             std::function<absl::Time()> now = absl::Now)
      : store_(store),
        models_(models),
        matrix_(matrix),
        metrics_(metrics),
        opts_(opts),
        now_(std::move(now)) {}

  // The consumer's handler: TicketCreated → dispatch or triage; TicketWithdrawn → withdrawn;
  // SurveyAnswered (negative) → reopen. Other events are acknowledged and ignored.
  absl::Status HandleEvent(const v1::EventEnvelope& e);

  // Hotline centre and dispatchers.
  absl::StatusOr<v1::DispatchedTicket> Assign(const v1::AssignTicketRequest& req);
  absl::StatusOr<v1::DispatchedTicket> DecideExtension(const v1::DecideExtensionRequest& req);
  absl::StatusOr<v1::DispatchedTicket> Close(const std::string& id, const std::string& reviewer);
  absl::StatusOr<v1::DispatchedTicket> Reopen(const std::string& id, const std::string& reason);
  absl::StatusOr<std::vector<v1::DispatchedTicket>> ListTriage(size_t offset, size_t limit);

  // Departments: each call names the acting department; another department's ticket is
  // PERMISSION_DENIED, an illegal move FAILED_PRECONDITION.
  absl::StatusOr<v1::DispatchedTicket> Accept(const std::string& id, const std::string& dept);
  absl::StatusOr<v1::DispatchedTicket> Return(const std::string& id, const std::string& dept,
                                              const std::string& reason);
  absl::StatusOr<v1::DispatchedTicket> RequestExtension(const v1::RequestExtensionRequest& req);
  absl::StatusOr<v1::DispatchedTicket> Reply(const std::string& id, const std::string& dept,
                                             const std::string& resolution);
  // dept "" = the hotline centre (sees every ticket).
  absl::StatusOr<v1::DispatchedTicket> Get(const std::string& id, const std::string& dept);

  const ResponsibilityMatrix& matrix() const { return *matrix_; }

 private:
  absl::Status OnCreated(const v1::EventEnvelope& e);
  absl::Status OnWithdrawn(const v1::EventEnvelope& e);
  absl::Status OnSurvey(const v1::EventEnvelope& e);

  DispatchStore* store_;
  ModelHolder* models_;
  const ResponsibilityMatrix* matrix_;
  DispatchMetrics* metrics_;
  DispatchOptions opts_;
  std::function<absl::Time()> now_;
};

}  // namespace hotline::dispatch

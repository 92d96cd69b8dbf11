#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hotline/v1/dispatch.pb.h"
#include "hotline/v1/events.pb.h"
#include "services/dispatch/classifier.h"
#include "services/dispatch/lifecycle.h"
#include "services/dispatch/responsibility.h"

// Dispatch's rules as plain functions (DESIGN.md house style 1): what a new ticket's routing is,
// which extension deadlines are acceptable, and what each transition changes and emits. They
// know nothing of Redis or gRPC; Dispatcher runs them inside one store transaction.
namespace hotline::dispatch {

// A corrected label for the learning loop ("label\ttext\tsource" in the store).
struct CorrectedLabel {
  std::string label;
  std::string text;
  std::string source;
};

// What a state change writes besides the ticket itself. The store writes all of it with the
// ticket in one transaction, so nothing is half-stored.
struct Change {
  std::vector<v1::EventEnvelope> events;
  std::optional<absl::Time> enqueue_triage;  // into the triage queue, ordered by this time
  bool dequeue_triage = false;
  std::string assign_to;  // appended to this department's assignment stream
  std::vector<CorrectedLabel> labels;
};

// Routing of a new ticket: auto-dispatch when the classifier's top category clears the threshold
// and the responsibility list names a department for it in the ticket's district; triage
// otherwise, with the reason and the top suggestions for the human dispatcher.
struct Routing {
  std::vector<v1::Suggestion> suggestions;  // most likely first, each with its department
  bool automatic = false;
  std::string triage_reason;  // set when !automatic
};
Routing DecideRouting(const std::vector<TextClassifier::Prediction>& predictions,
                      const ResponsibilityMatrix& matrix, const std::string& district,
                      double threshold, int max_suggestions);

// The ticket dispatch creates for a TicketCreated, and its first change (TicketDispatched to the
// department, or TicketTriaged into the triage queue). The event carries the creator's traceparent.
struct NewTicket {
  v1::DispatchedTicket ticket;
  Change change;
};
NewTicket RouteCreated(const v1::EventEnvelope& created, const Routing& routing,
                       const std::string& model_version, absl::Time now);

// Whether a survey answer asks for the ticket to be reopened, and the reason recorded.
bool IsNegativeSurvey(const v1::SurveyAnswered& s, int reopen_satisfaction_at_most);
std::string SurveyReopenReason(const v1::SurveyAnswered& s);

// Extension rules. A deadline must be a valid timestamp, later than `now`, and later than the
// deadline the last granted extension set (v1::DispatchedTicket.granted_deadline). Errors are
// INVALID_ARGUMENT naming the field.
absl::Status CheckExtensionDeadline(const std::string& field,
                                    const google::protobuf::Timestamp& deadline,
                                    const v1::DispatchedTicket& t, absl::Time now);
// What can be checked before the ticket is read: reason and a requested deadline in the future.
absl::Status CheckExtensionRequest(const v1::RequestExtensionRequest& req, absl::Time now);
// The deadline an approval grants: the centre's new_deadline, else the one the department asked
// for; INVALID_ARGUMENT when neither is set or it is not acceptable (it may have passed while
// the request waited).
absl::StatusOr<google::protobuf::Timestamp> GrantedDeadline(const v1::DecideExtensionRequest& req,
                                                            const v1::DispatchedTicket& t,
                                                            absl::Time now);

// Transitions: each checks who acts and the state machine, changes `t` (not its version: the
// store bumps it) and returns what else to write, events included. On error `t` is unusable.
absl::StatusOr<Change> ApplyAssign(v1::DispatchedTicket& t, const v1::AssignTicketRequest& req,
                                   absl::Time now);
absl::StatusOr<Change> ApplyAccept(v1::DispatchedTicket& t, const std::string& dept);
absl::StatusOr<Change> ApplyReturn(v1::DispatchedTicket& t, const std::string& dept,
                                   const std::string& reason, absl::Time now);
absl::StatusOr<Change> ApplyRequestExtension(v1::DispatchedTicket& t,
                                             const v1::RequestExtensionRequest& req,
                                             absl::Time now);
absl::StatusOr<Change> ApplyReply(v1::DispatchedTicket& t, const std::string& dept,
                                  const std::string& resolution);
absl::StatusOr<Change> ApplyDecideExtension(v1::DispatchedTicket& t,
                                            const v1::DecideExtensionRequest& req, absl::Time now);
absl::StatusOr<Change> ApplyClose(v1::DispatchedTicket& t);
absl::StatusOr<Change> ApplyReopen(v1::DispatchedTicket& t, const std::string& reason,
                                   absl::Time now);
absl::StatusOr<Change> ApplyWithdraw(v1::DispatchedTicket& t, const std::string& reason);

}  // namespace hotline::dispatch

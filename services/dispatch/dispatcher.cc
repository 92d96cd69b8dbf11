#include "services/dispatch/dispatcher.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace hotline::dispatch {

absl::Status Dispatcher::HandleEvent(const v1::EventEnvelope& e) {
  switch (e.payload_case()) {
    case v1::EventEnvelope::kTicketCreated:
      return OnCreated(e);
    case v1::EventEnvelope::kTicketWithdrawn:
      return OnWithdrawn(e);
    case v1::EventEnvelope::kSurveyAnswered:
      return OnSurvey(e);
    default:
      return absl::OkStatus();  // our own events and others' come back on the topic
  }
}

absl::Status Dispatcher::OnCreated(const v1::EventEnvelope& e) {
  const auto& c = e.ticket_created();
  if (c.ticket_id().empty())
    return absl::InvalidArgumentError("ticket_created.ticket_id: is empty");
  auto model = models_->Get();
  auto t0 = std::chrono::steady_clock::now();
  auto preds = model->Predict(c.text());
  metrics_->Classified(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  double threshold = opts_.threshold >= 0 ? opts_.threshold : model->recommended_threshold();
  Routing routing =
      DecideRouting(preds, *matrix_, c.location().district(), threshold, opts_.suggestions);
  NewTicket n = RouteCreated(e, routing, model->version(), now_());
  auto written = store_->CreateOnce(e.event_id(), n.ticket, n.change);
  if (!written.ok()) return written.status();
  if (*written) metrics_->Decision(routing.automatic ? "auto" : "triage");
  return absl::OkStatus();
}

absl::Status Dispatcher::OnWithdrawn(const v1::EventEnvelope& e) {
  const auto& w = e.ticket_withdrawn();
  auto t = store_->Mutate(w.ticket_id(),
                          [&](v1::DispatchedTicket& t) { return ApplyWithdraw(t, w.reason()); });
  // Not known here (a merged or answered ticket never came to dispatch) or already past the
  // point of withdrawal: nothing to do, and not an error for the consumer.
  if (absl::IsNotFound(t.status()) || absl::IsFailedPrecondition(t.status()))
    return absl::OkStatus();
  return t.status();
}

absl::Status Dispatcher::OnSurvey(const v1::EventEnvelope& e) {
  const auto& s = e.survey_answered();
  if (!IsNegativeSurvey(s, opts_.reopen_satisfaction_at_most)) return absl::OkStatus();
  auto r = Reopen(s.ticket_id(), SurveyReopenReason(s));
  if (absl::IsNotFound(r.status()) || absl::IsFailedPrecondition(r.status()))
    return absl::OkStatus();
  return r.status();
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Assign(const v1::AssignTicketRequest& req) {
  if (req.department_id().empty()) return absl::InvalidArgumentError("department_id: is required");
  if (!matrix_->Find(req.department_id())) {
    return absl::InvalidArgumentError(
        absl::StrCat("department_id: unknown department '", req.department_id(), "'"));
  }
  absl::Time now = now_();
  auto r = store_->Mutate(req.ticket_id(),
                          [&](v1::DispatchedTicket& t) { return ApplyAssign(t, req, now); });
  if (r.ok()) metrics_->Decision("manual");
  return r;
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Accept(const std::string& id,
                                                        const std::string& dept) {
  if (dept.empty()) return absl::InvalidArgumentError("department_id: is required");
  auto r = store_->Mutate(id, [&](v1::DispatchedTicket& t) { return ApplyAccept(t, dept); });
  if (r.ok()) metrics_->Transition(ActionName(Action::kAccept));
  return r;
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Return(const std::string& id,
                                                        const std::string& dept,
                                                        const std::string& reason) {
  if (reason.empty()) return absl::InvalidArgumentError("reason: say why the ticket is not yours");
  if (dept.empty()) return absl::InvalidArgumentError("department_id: is required");
  absl::Time now = now_();
  auto r = store_->Mutate(
      id, [&](v1::DispatchedTicket& t) { return ApplyReturn(t, dept, reason, now); });
  if (r.ok()) {
    metrics_->Transition(ActionName(Action::kReturn));
    metrics_->Returned(dept);
  }
  return r;
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::RequestExtension(
    const v1::RequestExtensionRequest& req) {
  absl::Time now = now_();
  if (auto s = CheckExtensionRequest(req, now); !s.ok()) return s;
  if (req.department_id().empty()) return absl::InvalidArgumentError("department_id: is required");
  // State, requested deadline and event in one transaction: an approval never meets a request
  // without its deadline.
  auto r = store_->Mutate(
      req.ticket_id(), [&](v1::DispatchedTicket& t) { return ApplyRequestExtension(t, req, now); });
  if (r.ok()) metrics_->Transition(ActionName(Action::kRequestExtension));
  return r;
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Reply(const std::string& id,
                                                       const std::string& dept,
                                                       const std::string& resolution) {
  if (resolution.empty()) return absl::InvalidArgumentError("resolution: say what was done");
  if (dept.empty()) return absl::InvalidArgumentError("department_id: is required");
  auto r =
      store_->Mutate(id, [&](v1::DispatchedTicket& t) { return ApplyReply(t, dept, resolution); });
  if (r.ok()) metrics_->Transition(ActionName(Action::kReply));
  return r;
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::DecideExtension(
    const v1::DecideExtensionRequest& req) {
  absl::Time now = now_();
  auto r = store_->Mutate(
      req.ticket_id(), [&](v1::DispatchedTicket& t) { return ApplyDecideExtension(t, req, now); });
  if (r.ok()) metrics_->Transition(req.approve() ? "grant extension" : "refuse extension");
  return r;
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Close(const std::string& id, const std::string&) {
  auto r = store_->Mutate(id, [&](v1::DispatchedTicket& t) { return ApplyClose(t); });
  if (r.ok()) metrics_->Transition("close");
  return r;
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Reopen(const std::string& id,
                                                        const std::string& reason) {
  absl::Time now = now_();
  auto r = store_->Mutate(id, [&](v1::DispatchedTicket& t) { return ApplyReopen(t, reason, now); });
  if (r.ok()) metrics_->Transition("reopen");
  return r;
}

absl::StatusOr<std::vector<v1::DispatchedTicket>> Dispatcher::ListTriage(size_t offset,
                                                                         size_t limit) {
  return store_->ListTriage(offset, limit);
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Get(const std::string& id,
                                                     const std::string& dept) {
  if (id.empty()) return absl::InvalidArgumentError("ticket_id: is required");
  auto t = store_->Get(id);
  if (!t.ok()) return t.status();
  if (!t->has_value()) return absl::NotFoundError(absl::StrCat("no ticket ", id, " in dispatch"));
  if (!dept.empty() && (*t)->department_id() != dept) {
    return absl::PermissionDeniedError(absl::StrCat("ticket is not assigned to ", dept));
  }
  return **t;
}

}  // namespace hotline::dispatch

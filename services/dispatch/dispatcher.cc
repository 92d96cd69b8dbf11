#include "services/dispatch/dispatcher.h"

#include <google/protobuf/util/time_util.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/time_proto.h"

namespace hotline::dispatch {
namespace {


RedisCommand StreamAdd(const std::string& dept, const std::string& ticket_id) {
  return {"XADD", TicketRepository::DepartmentStream(dept), "*", "ticket", ticket_id};
}

RedisCommand Label(const std::string& label, const std::string& text, const std::string& source) {
  std::string clean;
  for (char c : text) clean.push_back(c == '\t' || c == '\n' || c == '\r' ? ' ' : c);
  return {"RPUSH", TicketRepository::kLabelsKey, absl::StrCat(label, "\t", clean, "\t", source)};
}

std::string Ms(absl::Time t) { return std::to_string(absl::ToUnixMillis(t)); }

}  // namespace

v1::EventEnvelope Dispatcher::Event(const v1::DispatchedTicket& t) const {
  return NewEnvelope("dispatch", t.ticket_id(), t.version() + 1);
}

void Dispatcher::FillDispatched(v1::EventEnvelope& e, const v1::DispatchedTicket& t) const {
  auto* d = e.mutable_ticket_dispatched();
  d->set_ticket_id(t.ticket_id());
  d->set_department_id(t.department_id());
  *d->mutable_category() = t.category();
  d->set_automatic(t.automatic());
  d->set_confidence(t.confidence());
  d->set_model_version(t.model_version());
  d->set_type(t.type());
  d->set_urgency(t.urgency());
  *d->mutable_dispatched_at() = t.dispatched_at();
}

absl::Status Dispatcher::HandleEvent(const v1::EventEnvelope& e) {
  switch (e.payload_case()) {
    case v1::EventEnvelope::kTicketCreated: return OnCreated(e);
    case v1::EventEnvelope::kTicketWithdrawn: return OnWithdrawn(e);
    case v1::EventEnvelope::kSurveyAnswered: return OnSurvey(e);
    default: return absl::OkStatus();  // our own events and others' come back on the topic
  }
}

absl::Status Dispatcher::OnCreated(const v1::EventEnvelope& e) {
  const auto& c = e.ticket_created();
  if (c.ticket_id().empty()) return absl::InvalidArgumentError("ticket_created.ticket_id: is empty");
  auto model = models_->Get();
  auto t0 = std::chrono::steady_clock::now();
  auto preds = model->Predict(c.text());
  metrics_->Classified(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  double threshold = opts_.threshold >= 0 ? opts_.threshold : model->recommended_threshold();

  v1::DispatchedTicket t;
  t.set_ticket_id(c.ticket_id());
  t.set_ticket_number(c.ticket_number());
  t.set_type(c.type());
  t.set_urgency(c.urgency());
  t.set_text(c.text());
  *t.mutable_location() = c.location();
  t.set_channel(c.channel());
  t.set_model_version(model->version());
  for (int i = 0; i < opts_.suggestions && i < static_cast<int>(preds.size()); ++i) {
    auto* s = t.add_suggestions();
    s->mutable_category()->set_code(preds[i].label);
    s->mutable_category()->set_name(preds[i].label);
    s->mutable_category()->set_level1(preds[i].label);
    s->set_department_id(matrix_->Resolve(preds[i].label, c.location().district()));
    s->set_probability(preds[i].probability);
  }
  const auto& top = t.suggestions(0);
  bool automatic = top.probability() >= threshold && !top.department_id().empty();
  absl::Time now = now_();
  t.set_version(1);

  std::string mode = automatic ? "auto" : "triage";
  auto outcome = applier_->Apply(e, [&](const RedisClient::Reader& read)
                                                   -> absl::StatusOr<std::vector<RedisCommand>> {
    auto existing = read({"EXISTS", TicketRepository::TicketKey(c.ticket_id())});
    if (!existing.ok()) return existing.status();
    if (existing->integer == 1) return std::vector<RedisCommand>{};  // already routed
    v1::DispatchedTicket out = t;
    v1::EventEnvelope ev = NewEnvelope("dispatch", out.ticket_id(), 1, e.traceparent());
    std::vector<RedisCommand> cmds;
    if (automatic) {
      out.set_state(*NextState(v1::TICKET_STATE_CREATED, Action::kAutoDispatch));
      out.set_department_id(top.department_id());
      *out.mutable_category() = top.category();
      out.set_confidence(top.probability());
      out.set_automatic(true);
      *out.mutable_dispatched_at() = ToTimestamp(now);
      FillDispatched(ev, out);
      cmds.push_back(StreamAdd(out.department_id(), out.ticket_id()));
    } else {
      out.set_state(*NextState(v1::TICKET_STATE_CREATED, Action::kTriage));
      auto* tr = ev.mutable_ticket_triaged();
      tr->set_ticket_id(out.ticket_id());
      tr->set_reason(top.department_id().empty()
                         ? "no department is responsible for the predicted category"
                         : absl::StrCat("classifier confidence ", static_cast<int>(top.probability() * 100),
                                        "% below the auto-dispatch threshold ",
                                        static_cast<int>(threshold * 100), "%"));
      for (const auto& s : out.suggestions()) tr->add_suggested_departments(s.department_id());
      cmds.push_back({"ZADD", TicketRepository::kTriageKey, Ms(now), out.ticket_id()});
    }
    cmds.insert(cmds.begin(), TicketRepository::Put(out));
    auto append = repo_->outbox()->AppendCommand({ev});  // refuses oversized events
    if (!append.ok()) return append.status();
    cmds.push_back(*std::move(append));
    return cmds;
  }, {TicketRepository::TicketKey(c.ticket_id())});
  if (!outcome.ok()) return outcome.status();
  if (*outcome == IdempotentApplier::Outcome::kApplied) {
    repo_->outbox()->NotifyCommitted();
    metrics_->Decision(mode);
  }
  return absl::OkStatus();
}

absl::Status Dispatcher::OnWithdrawn(const v1::EventEnvelope& e) {
  const std::string& id = e.ticket_withdrawn().ticket_id();
  auto t = repo_->Mutate(id, [&](v1::DispatchedTicket& t) -> absl::StatusOr<Change> {
    auto next = NextState(t.state(), Action::kWithdraw);
    if (!next.ok()) return next.status();
    t.set_state(*next);
    t.set_last_reason(e.ticket_withdrawn().reason());
    return Change{{}, {{"ZREM", TicketRepository::kTriageKey, t.ticket_id()}}};
  });
  // Not known here (a merged or answered ticket never came to dispatch) or already past the
  // point of withdrawal: nothing to do, and not an error for the consumer.
  if (absl::IsNotFound(t.status()) || absl::IsFailedPrecondition(t.status())) return absl::OkStatus();
  return t.status();
}

absl::Status Dispatcher::OnSurvey(const v1::EventEnvelope& e) {
  const auto& s = e.survey_answered();
  bool negative = s.reopen_requested() || (!s.resolved() && s.satisfaction() > 0) ||
                  (s.satisfaction() > 0 && s.satisfaction() <= opts_.reopen_satisfaction_at_most);
  if (!negative) return absl::OkStatus();
  auto r = Reopen(s.ticket_id(), absl::StrCat("citizen not satisfied (survey: ", s.satisfaction(), "/5",
                                              s.resolved() ? "" : ", not resolved", ")"));
  if (absl::IsNotFound(r.status()) || absl::IsFailedPrecondition(r.status())) return absl::OkStatus();
  return r.status();
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Assign(const v1::AssignTicketRequest& req) {
  if (req.department_id().empty()) return absl::InvalidArgumentError("department_id: is required");
  if (!matrix_->Find(req.department_id())) {
    return absl::InvalidArgumentError(absl::StrCat("department_id: unknown department '", req.department_id(), "'"));
  }
  auto r = repo_->Mutate(req.ticket_id(), [&](v1::DispatchedTicket& t) -> absl::StatusOr<Change> {
    auto next = NextState(t.state(), Action::kAssign);
    if (!next.ok()) return next.status();
    Change ch;
    t.set_state(*next);
    t.set_department_id(req.department_id());
    t.set_automatic(false);
    if (!req.category_code().empty()) {
      t.mutable_category()->set_code(req.category_code());
      t.mutable_category()->set_name(req.category_code());
      t.mutable_category()->set_level1(req.category_code());
      // The learning loop: a human's category is a corrected label for the next model.
      ch.extra.push_back(Label(req.category_code(), t.text(), "manual-dispatch"));
    }
    *t.mutable_dispatched_at() = ToTimestamp(now_());
    ch.extra.push_back({"ZREM", TicketRepository::kTriageKey, t.ticket_id()});
    ch.extra.push_back(StreamAdd(t.department_id(), t.ticket_id()));
    auto ev = Event(t);
    FillDispatched(ev, t);
    ch.events.push_back(ev);
    return ch;
  });
  if (r.ok()) metrics_->Decision("manual");
  return r;
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::DepartmentAction(const std::string& id, const std::string& dept,
                                                                  Action action, const std::string& reason,
                                                                  const EventFill& fill) {
  if (dept.empty()) return absl::InvalidArgumentError("department_id: is required");
  auto r = repo_->Mutate(id, [&](v1::DispatchedTicket& t) -> absl::StatusOr<Change> {
    if (t.department_id() != dept) {
      return absl::PermissionDeniedError(absl::StrCat("ticket ", t.ticket_number(), " is not assigned to ", dept));
    }
    auto next = NextState(t.state(), action);
    if (!next.ok()) return next.status();
    Change ch;
    auto ev = Event(t);
    t.set_state(*next);
    if (!reason.empty()) t.set_last_reason(reason);
    fill(ev, t);
    ch.events.push_back(ev);
    if (action == Action::kReturn) {
      ch.extra.push_back({"ZADD", TicketRepository::kTriageKey, Ms(now_()), t.ticket_id()});
      // Kept for the learning loop: "not this category" (training skips '!' labels; the
      // dispatcher's corrected category arrives with the re-dispatch).
      ch.extra.push_back(Label("!" + t.category().code(), t.text(), "return:" + dept));
      t.clear_department_id();
    }
    return ch;
  });
  if (r.ok()) metrics_->Transition(ActionName(action));
  return r;
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Accept(const std::string& id, const std::string& dept) {
  return DepartmentAction(id, dept, Action::kAccept, "", [&](v1::EventEnvelope& e, const v1::DispatchedTicket& t) {
    e.mutable_ticket_accepted()->set_ticket_id(t.ticket_id());
    e.mutable_ticket_accepted()->set_department_id(dept);
  });
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Return(const std::string& id, const std::string& dept,
                                                        const std::string& reason) {
  if (reason.empty()) return absl::InvalidArgumentError("reason: say why the ticket is not yours");
  auto r = DepartmentAction(id, dept, Action::kReturn, reason, [&](v1::EventEnvelope& e, const v1::DispatchedTicket& t) {
    auto* p = e.mutable_ticket_returned();
    p->set_ticket_id(t.ticket_id());
    p->set_department_id(dept);
    p->set_reason(reason);
  });
  if (r.ok()) metrics_->Returned(dept);
  return r;
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::RequestExtension(const v1::RequestExtensionRequest& req) {
  if (req.reason().empty()) return absl::InvalidArgumentError("reason: is required for an extension");
  if (!req.has_requested_deadline()) return absl::InvalidArgumentError("requested_deadline: is required");
  auto r = DepartmentAction(req.ticket_id(), req.department_id(), Action::kRequestExtension, req.reason(),
                            [&](v1::EventEnvelope& e, const v1::DispatchedTicket& t) {
                              auto* p = e.mutable_extension_requested();
                              p->set_ticket_id(t.ticket_id());
                              p->set_department_id(req.department_id());
                              p->set_reason(req.reason());
                              *p->mutable_requested_deadline() = req.requested_deadline();
                            });
  if (!r.ok()) return r;
  // Remember the requested deadline for the centre's decision.
  return repo_->Mutate(req.ticket_id(), [&](v1::DispatchedTicket& t) -> absl::StatusOr<Change> {
    *t.mutable_requested_deadline() = req.requested_deadline();
    return Change{};
  });
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Reply(const std::string& id, const std::string& dept,
                                                       const std::string& resolution) {
  if (resolution.empty()) return absl::InvalidArgumentError("resolution: say what was done");
  return DepartmentAction(id, dept, Action::kReply, "", [&](v1::EventEnvelope& e, const v1::DispatchedTicket& t) {
    auto* p = e.mutable_ticket_replied();
    p->set_ticket_id(t.ticket_id());
    p->set_department_id(dept);
    p->set_resolution(resolution);
  });
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::DecideExtension(const v1::DecideExtensionRequest& req) {
  auto r = repo_->Mutate(req.ticket_id(), [&](v1::DispatchedTicket& t) -> absl::StatusOr<Change> {
    auto next = NextState(t.state(), req.approve() ? Action::kGrantExtension : Action::kRefuseExtension);
    if (!next.ok()) return next.status();
    auto ev = Event(t);
    t.set_state(*next);
    if (req.approve()) {
      auto* p = ev.mutable_extension_granted();
      p->set_ticket_id(t.ticket_id());
      p->set_department_id(t.department_id());
      *p->mutable_new_deadline() = req.has_new_deadline() ? req.new_deadline() : t.requested_deadline();
    } else {
      auto* p = ev.mutable_extension_refused();
      p->set_ticket_id(t.ticket_id());
      p->set_department_id(t.department_id());
      p->set_reason(req.reason());
      t.set_last_reason(req.reason());
    }
    t.clear_requested_deadline();
    return Change{{ev}, {}};
  });
  if (r.ok()) metrics_->Transition(req.approve() ? "grant extension" : "refuse extension");
  return r;
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Close(const std::string& id, const std::string&) {
  auto r = repo_->Mutate(id, [&](v1::DispatchedTicket& t) -> absl::StatusOr<Change> {
    auto next = NextState(t.state(), Action::kClose);
    if (!next.ok()) return next.status();
    auto ev = Event(t);
    t.set_state(*next);
    auto* p = ev.mutable_ticket_closed();
    p->set_ticket_id(t.ticket_id());
    p->set_department_id(t.department_id());
    p->set_type(t.type());
    p->set_channel(t.channel());
    return Change{{ev}, {}};
  });
  if (r.ok()) metrics_->Transition("close");
  return r;
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Reopen(const std::string& id, const std::string& reason) {
  auto r = repo_->Mutate(id, [&](v1::DispatchedTicket& t) -> absl::StatusOr<Change> {
    auto next = NextState(t.state(), Action::kReopen);
    if (!next.ok()) return next.status();
    auto ev = Event(t);
    t.set_state(*next);
    t.set_last_reason(reason);
    *t.mutable_dispatched_at() = ToTimestamp(now_());
    auto* p = ev.mutable_ticket_reopened();
    p->set_ticket_id(t.ticket_id());
    p->set_department_id(t.department_id());
    p->set_reason(reason);
    // Back to the same department, which must sign for it again.
    return Change{{ev}, {StreamAdd(t.department_id(), t.ticket_id())}};
  });
  if (r.ok()) metrics_->Transition("reopen");
  return r;
}

absl::StatusOr<std::vector<v1::DispatchedTicket>> Dispatcher::ListTriage(size_t offset, size_t limit) {
  return repo_->ListTriage(offset, limit);
}

absl::StatusOr<v1::DispatchedTicket> Dispatcher::Get(const std::string& id, const std::string& dept) {
  if (id.empty()) return absl::InvalidArgumentError("ticket_id: is required");
  auto t = repo_->Get(id);
  if (!t.ok()) return t.status();
  if (!t->has_value()) return absl::NotFoundError(absl::StrCat("no ticket ", id, " in dispatch"));
  if (!dept.empty() && (*t)->department_id() != dept) {
    return absl::PermissionDeniedError(absl::StrCat("ticket is not assigned to ", dept));
  }
  return **t;
}

}  // namespace hotline::dispatch

#include "services/dispatch/rules.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/time_proto.h"

namespace hotline::dispatch {
namespace {

using google::protobuf::Timestamp;

// Every event of a transition: keyed by the ticket; the store sets the final aggregate version.
v1::EventEnvelope Event(const v1::DispatchedTicket& t) {
  return NewEnvelope("dispatch", t.ticket_id(), t.version() + 1);
}

void FillDispatched(v1::EventEnvelope& e, const v1::DispatchedTicket& t) {
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

absl::Status Move(v1::DispatchedTicket& t, Action a) {
  auto next = NextState(t.state(), a);
  if (!next.ok()) return next.status();
  t.set_state(*next);
  return absl::OkStatus();
}

// A department acts only on the tickets assigned to it.
absl::Status CheckDepartment(const v1::DispatchedTicket& t, const std::string& dept) {
  if (t.department_id() != dept) {
    return absl::PermissionDeniedError(
        absl::StrCat("ticket ", t.ticket_number(), " is not assigned to ", dept));
  }
  return absl::OkStatus();
}

bool IsSet(const Timestamp& ts) { return ts.seconds() != 0 || ts.nanos() != 0; }

absl::Time FromTimestamp(const Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

}  // namespace

Routing DecideRouting(const std::vector<TextClassifier::Prediction>& predictions,
                      const ResponsibilityMatrix& matrix, const std::string& district,
                      double threshold, int max_suggestions) {
  Routing r;
  for (int i = 0; i < max_suggestions && i < static_cast<int>(predictions.size()); ++i) {
    v1::Suggestion s;
    s.mutable_category()->set_code(predictions[i].label);
    s.mutable_category()->set_name(predictions[i].label);
    s.mutable_category()->set_level1(predictions[i].label);
    s.set_department_id(matrix.Resolve(predictions[i].label, district));
    s.set_probability(predictions[i].probability);
    r.suggestions.push_back(std::move(s));
  }
  if (r.suggestions.empty()) {
    r.triage_reason = "the classifier gave no category";
    return r;
  }
  const auto& top = r.suggestions.front();
  r.automatic = top.probability() >= threshold && !top.department_id().empty();
  if (!r.automatic) {
    r.triage_reason =
        top.department_id().empty()
            ? "no department is responsible for the predicted category"
            : absl::StrCat("classifier confidence ", static_cast<int>(top.probability() * 100),
                           "% below the auto-dispatch threshold ",
                           static_cast<int>(threshold * 100), "%");
  }
  return r;
}

NewTicket RouteCreated(const v1::EventEnvelope& created, const Routing& routing,
                       const std::string& model_version, absl::Time now) {
  const auto& c = created.ticket_created();
  NewTicket out;
  v1::DispatchedTicket& t = out.ticket;
  t.set_ticket_id(c.ticket_id());
  t.set_ticket_number(c.ticket_number());
  t.set_type(c.type());
  t.set_urgency(c.urgency());
  t.set_text(c.text());
  *t.mutable_location() = c.location();
  t.set_channel(c.channel());
  t.set_model_version(model_version);
  for (const auto& s : routing.suggestions) *t.add_suggestions() = s;
  t.set_version(1);
  v1::EventEnvelope ev = NewEnvelope("dispatch", t.ticket_id(), 1, created.traceparent());
  if (routing.automatic) {
    const auto& top = routing.suggestions.front();
    t.set_state(*NextState(v1::TICKET_STATE_CREATED, Action::kAutoDispatch));
    t.set_department_id(top.department_id());
    *t.mutable_category() = top.category();
    t.set_confidence(top.probability());
    t.set_automatic(true);
    *t.mutable_dispatched_at() = ToTimestamp(now);
    FillDispatched(ev, t);
    out.change.assign_to = t.department_id();
  } else {
    t.set_state(*NextState(v1::TICKET_STATE_CREATED, Action::kTriage));
    auto* tr = ev.mutable_ticket_triaged();
    tr->set_ticket_id(t.ticket_id());
    tr->set_reason(routing.triage_reason);
    for (const auto& s : t.suggestions()) tr->add_suggested_departments(s.department_id());
    out.change.enqueue_triage = now;
  }
  out.change.events.push_back(std::move(ev));
  return out;
}

bool IsNegativeSurvey(const v1::SurveyAnswered& s, int reopen_satisfaction_at_most) {
  return s.reopen_requested() || (!s.resolved() && s.satisfaction() > 0) ||
         (s.satisfaction() > 0 && s.satisfaction() <= reopen_satisfaction_at_most);
}

std::string SurveyReopenReason(const v1::SurveyAnswered& s) {
  return absl::StrCat("citizen not satisfied (survey: ", s.satisfaction(), "/5",
                      s.resolved() ? "" : ", not resolved", ")");
}

absl::Status CheckExtensionDeadline(const std::string& field, const Timestamp& deadline,
                                    const v1::DispatchedTicket& t, absl::Time now) {
  using google::protobuf::util::TimeUtil;
  if (deadline.seconds() < TimeUtil::kTimestampMinSeconds ||
      deadline.seconds() > TimeUtil::kTimestampMaxSeconds || deadline.nanos() < 0 ||
      deadline.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not a valid timestamp"));
  }
  absl::Time d = FromTimestamp(deadline);
  if (d <= now) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", Rfc3339(d), " is in the past (now ", Rfc3339(now), ")"));
  }
  if (IsSet(t.granted_deadline()) && d <= FromTimestamp(t.granted_deadline())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", Rfc3339(d),
                                                   " is not later than the current deadline ",
                                                   Rfc3339(FromTimestamp(t.granted_deadline()))));
  }
  return absl::OkStatus();
}

absl::Status CheckExtensionRequest(const v1::RequestExtensionRequest& req, absl::Time now) {
  if (req.reason().empty())
    return absl::InvalidArgumentError("reason: is required for an extension");
  if (!req.has_requested_deadline())
    return absl::InvalidArgumentError("requested_deadline: is required");
  return CheckExtensionDeadline("requested_deadline", req.requested_deadline(),
                                v1::DispatchedTicket(), now);
}

absl::StatusOr<Timestamp> GrantedDeadline(const v1::DecideExtensionRequest& req,
                                          const v1::DispatchedTicket& t, absl::Time now) {
  if (req.has_new_deadline()) {
    if (auto s = CheckExtensionDeadline("new_deadline", req.new_deadline(), t, now); !s.ok())
      return s;
    return req.new_deadline();
  }
  if (!t.has_requested_deadline()) {
    return absl::InvalidArgumentError(
        "new_deadline: is required (the pending request names no deadline)");
  }
  if (auto s = CheckExtensionDeadline("new_deadline", t.requested_deadline(), t, now); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        s.message(), "; the requested deadline cannot be granted, give a new_deadline"));
  }
  return t.requested_deadline();
}

absl::StatusOr<Change> ApplyAssign(v1::DispatchedTicket& t, const v1::AssignTicketRequest& req,
                                   absl::Time now) {
  if (auto s = Move(t, Action::kAssign); !s.ok()) return s;
  Change ch;
  t.set_department_id(req.department_id());
  t.set_automatic(false);
  t.clear_granted_deadline();  // a new dispatch starts new SLA clocks
  if (!req.category_code().empty()) {
    t.mutable_category()->set_code(req.category_code());
    t.mutable_category()->set_name(req.category_code());
    t.mutable_category()->set_level1(req.category_code());
    // The learning loop: a human's category is a corrected label for the next model.
    ch.labels.push_back({req.category_code(), t.text(), "manual-dispatch"});
  }
  *t.mutable_dispatched_at() = ToTimestamp(now);
  ch.dequeue_triage = true;
  ch.assign_to = t.department_id();
  auto ev = Event(t);
  FillDispatched(ev, t);
  ch.events.push_back(std::move(ev));
  return ch;
}

absl::StatusOr<Change> ApplyAccept(v1::DispatchedTicket& t, const std::string& dept) {
  if (auto s = CheckDepartment(t, dept); !s.ok()) return s;
  auto ev = Event(t);
  if (auto s = Move(t, Action::kAccept); !s.ok()) return s;
  ev.mutable_ticket_accepted()->set_ticket_id(t.ticket_id());
  ev.mutable_ticket_accepted()->set_department_id(dept);
  Change ch;
  ch.events.push_back(std::move(ev));
  return ch;
}

absl::StatusOr<Change> ApplyReturn(v1::DispatchedTicket& t, const std::string& dept,
                                   const std::string& reason, absl::Time now) {
  if (auto s = CheckDepartment(t, dept); !s.ok()) return s;
  auto ev = Event(t);
  if (auto s = Move(t, Action::kReturn); !s.ok()) return s;
  t.set_last_reason(reason);
  auto* p = ev.mutable_ticket_returned();
  p->set_ticket_id(t.ticket_id());
  p->set_department_id(dept);
  p->set_reason(reason);
  Change ch;
  ch.events.push_back(std::move(ev));
  ch.enqueue_triage = now;
  // Kept for the learning loop: "not this category" (training skips '!' labels; the
  // dispatcher's corrected category arrives with the re-dispatch).
  ch.labels.push_back({"!" + t.category().code(), t.text(), "return:" + dept});
  t.clear_department_id();
  return ch;
}

absl::StatusOr<Change> ApplyRequestExtension(v1::DispatchedTicket& t,
                                             const v1::RequestExtensionRequest& req,
                                             absl::Time now) {
  if (auto s = CheckDepartment(t, req.department_id()); !s.ok()) return s;
  auto ev = Event(t);
  if (auto s = Move(t, Action::kRequestExtension); !s.ok()) return s;
  if (auto s = CheckExtensionDeadline("requested_deadline", req.requested_deadline(), t, now);
      !s.ok())
    return s;
  t.set_last_reason(req.reason());
  // Kept with the state change, so an approval always finds the deadline that was asked for.
  *t.mutable_requested_deadline() = req.requested_deadline();
  auto* p = ev.mutable_extension_requested();
  p->set_ticket_id(t.ticket_id());
  p->set_department_id(req.department_id());
  p->set_reason(req.reason());
  *p->mutable_requested_deadline() = req.requested_deadline();
  Change ch;
  ch.events.push_back(std::move(ev));
  return ch;
}

absl::StatusOr<Change> ApplyReply(v1::DispatchedTicket& t, const std::string& dept,
                                  const std::string& resolution) {
  if (auto s = CheckDepartment(t, dept); !s.ok()) return s;
  auto ev = Event(t);
  if (auto s = Move(t, Action::kReply); !s.ok()) return s;
  auto* p = ev.mutable_ticket_replied();
  p->set_ticket_id(t.ticket_id());
  p->set_department_id(dept);
  p->set_resolution(resolution);
  Change ch;
  ch.events.push_back(std::move(ev));
  return ch;
}

absl::StatusOr<Change> ApplyDecideExtension(v1::DispatchedTicket& t,
                                            const v1::DecideExtensionRequest& req, absl::Time now) {
  auto ev = Event(t);
  if (auto s = Move(t, req.approve() ? Action::kGrantExtension : Action::kRefuseExtension); !s.ok())
    return s;
  if (req.approve()) {
    auto deadline = GrantedDeadline(req, t, now);
    if (!deadline.ok()) return deadline.status();
    auto* p = ev.mutable_extension_granted();
    p->set_ticket_id(t.ticket_id());
    p->set_department_id(t.department_id());
    *p->mutable_new_deadline() = *deadline;
    *t.mutable_granted_deadline() = *deadline;
  } else {
    auto* p = ev.mutable_extension_refused();
    p->set_ticket_id(t.ticket_id());
    p->set_department_id(t.department_id());
    p->set_reason(req.reason());
    t.set_last_reason(req.reason());
  }
  t.clear_requested_deadline();
  Change ch;
  ch.events.push_back(std::move(ev));
  return ch;
}

absl::StatusOr<Change> ApplyClose(v1::DispatchedTicket& t) {
  auto ev = Event(t);
  if (auto s = Move(t, Action::kClose); !s.ok()) return s;
  auto* p = ev.mutable_ticket_closed();
  p->set_ticket_id(t.ticket_id());
  p->set_department_id(t.department_id());
  p->set_type(t.type());
  p->set_channel(t.channel());
  Change ch;
  ch.events.push_back(std::move(ev));
  return ch;
}

absl::StatusOr<Change> ApplyReopen(v1::DispatchedTicket& t, const std::string& reason,
                                   absl::Time now) {
  auto ev = Event(t);
  if (auto s = Move(t, Action::kReopen); !s.ok()) return s;
  t.set_last_reason(reason);
  t.clear_granted_deadline();  // the SLA timer starts new clocks for the reopened ticket
  *t.mutable_dispatched_at() = ToTimestamp(now);
  auto* p = ev.mutable_ticket_reopened();
  p->set_ticket_id(t.ticket_id());
  p->set_department_id(t.department_id());
  p->set_reason(reason);
  Change ch;
  ch.events.push_back(std::move(ev));
  // Back to the same department, which must sign for it again.
  ch.assign_to = t.department_id();
  return ch;
}

absl::StatusOr<Change> ApplyWithdraw(v1::DispatchedTicket& t, const std::string& reason) {
  if (auto s = Move(t, Action::kWithdraw); !s.ok()) return s;
  t.set_last_reason(reason);
  Change ch;
  ch.dequeue_triage = true;
  return ch;
}

}  // namespace hotline::dispatch

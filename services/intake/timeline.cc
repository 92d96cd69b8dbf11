#include "services/intake/timeline.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/time_proto.h"

namespace hotline::intake {
namespace {

using google::protobuf::Timestamp;

// The stored text of a REASSIGNING entry after a department sent the ticket back.
constexpr char kReturned[] = "returned";

bool Before(const Timestamp& a, const Timestamp& b) {
  return a.seconds() != b.seconds() ? a.seconds() < b.seconds() : a.nanos() < b.nanos();
}

bool SameEntry(const v1::TimelineEntry& a, const v1::TimelineEntry& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

// The citizen-facing summary of dispatch's state, for the status field.
v1::CitizenStatus StatusOf(v1::TicketState s) {
  switch (s) {
    case v1::TICKET_STATE_PENDING_TRIAGE:
    case v1::TICKET_STATE_RETURNED:
      return v1::CITIZEN_STATUS_ASSIGNING;
    case v1::TICKET_STATE_DISPATCHED:
      return v1::CITIZEN_STATUS_WITH_DEPARTMENT;
    case v1::TICKET_STATE_ACCEPTED:
    case v1::TICKET_STATE_EXTENSION_REQUESTED:
    case v1::TICKET_STATE_EXTENSION_GRANTED:
      return v1::CITIZEN_STATUS_IN_PROGRESS;
    case v1::TICKET_STATE_REPLIED:
      return v1::CITIZEN_STATUS_REPLIED;
    case v1::TICKET_STATE_CLOSED:
      return v1::CITIZEN_STATUS_CLOSED;
    case v1::TICKET_STATE_REOPENED:
      return v1::CITIZEN_STATUS_REOPENED;
    case v1::TICKET_STATE_MERGED:
      return v1::CITIZEN_STATUS_MERGED;
    case v1::TICKET_STATE_DIRECT_ANSWERED:
      return v1::CITIZEN_STATUS_ANSWERED;
    case v1::TICKET_STATE_WITHDRAWN:
      return v1::CITIZEN_STATUS_WITHDRAWN;
    default:
      return v1::CITIZEN_STATUS_RECEIVED;
  }
}

std::string SurveyNote(const v1::SurveyAnswered& s) {
  std::string note = s.resolved() ? "resolved" : "not resolved";
  if (s.satisfaction() > 0) absl::StrAppend(&note, ", satisfaction ", s.satisfaction(), "/5");
  return note;
}

}  // namespace

bool TimelineRules::Projects(const v1::EventEnvelope& e) {
  if (e.source() == "intake") return false;
  switch (e.payload_case()) {
    case v1::EventEnvelope::kTicketDispatched:
    case v1::EventEnvelope::kTicketTriaged:
    case v1::EventEnvelope::kTicketAccepted:
    case v1::EventEnvelope::kTicketReturned:
    case v1::EventEnvelope::kExtensionGranted:
    case v1::EventEnvelope::kTicketReplied:
    case v1::EventEnvelope::kTicketClosed:
    case v1::EventEnvelope::kTicketReopened:
    case v1::EventEnvelope::kSurveyAnswered:
      return true;
    default:
      // ExtensionRequested/Refused are between a department and the centre; SurveyFailed is
      // counted, not told.
      return false;
  }
}

std::string TimelineRules::TicketId(const v1::EventEnvelope& e) {
  std::string id;
  switch (e.payload_case()) {
    case v1::EventEnvelope::kTicketDispatched:
      id = e.ticket_dispatched().ticket_id();
      break;
    case v1::EventEnvelope::kTicketTriaged:
      id = e.ticket_triaged().ticket_id();
      break;
    case v1::EventEnvelope::kTicketAccepted:
      id = e.ticket_accepted().ticket_id();
      break;
    case v1::EventEnvelope::kTicketReturned:
      id = e.ticket_returned().ticket_id();
      break;
    case v1::EventEnvelope::kExtensionGranted:
      id = e.extension_granted().ticket_id();
      break;
    case v1::EventEnvelope::kTicketReplied:
      id = e.ticket_replied().ticket_id();
      break;
    case v1::EventEnvelope::kTicketClosed:
      id = e.ticket_closed().ticket_id();
      break;
    case v1::EventEnvelope::kTicketReopened:
      id = e.ticket_reopened().ticket_id();
      break;
    case v1::EventEnvelope::kSurveyAnswered:
      id = e.survey_answered().ticket_id();
      break;
    default:
      break;
  }
  return id.empty() ? e.key() : id;
}

bool TimelineRules::Apply(const v1::EventEnvelope& e, v1::Ticket* p) {
  if (!Projects(e)) return false;
  v1::TimelineEntry entry;
  *entry.mutable_at() = e.occurred_at();
  // nullopt-like: UNSPECIFIED leaves state (and status) as they are.
  v1::TicketState state = v1::TICKET_STATE_UNSPECIFIED;
  switch (e.payload_case()) {
    case v1::EventEnvelope::kTicketDispatched: {
      const auto& d = e.ticket_dispatched();
      if (d.has_dispatched_at()) *entry.mutable_at() = d.dispatched_at();
      entry.set_kind(v1::TIMELINE_KIND_DISPATCHED);
      entry.set_department_id(d.department_id());
      state = v1::TICKET_STATE_DISPATCHED;
      break;
    }
    case v1::EventEnvelope::kTicketTriaged:
      entry.set_kind(v1::TIMELINE_KIND_REASSIGNING);
      state = v1::TICKET_STATE_PENDING_TRIAGE;
      break;
    case v1::EventEnvelope::kTicketReturned:
      // The department's reason ("not ours") is for the dispatchers, not the citizen; the text
      // only tells Describe that a department had it.
      entry.set_kind(v1::TIMELINE_KIND_REASSIGNING);
      entry.set_text(kReturned);
      state = v1::TICKET_STATE_RETURNED;
      break;
    case v1::EventEnvelope::kTicketAccepted:
      entry.set_kind(v1::TIMELINE_KIND_ACCEPTED);
      entry.set_department_id(e.ticket_accepted().department_id());
      state = v1::TICKET_STATE_ACCEPTED;
      break;
    case v1::EventEnvelope::kExtensionGranted:
      entry.set_kind(v1::TIMELINE_KIND_EXTENDED);
      entry.set_department_id(e.extension_granted().department_id());
      *entry.mutable_deadline() = e.extension_granted().new_deadline();
      state = v1::TICKET_STATE_EXTENSION_GRANTED;
      break;
    case v1::EventEnvelope::kTicketReplied:
      entry.set_kind(v1::TIMELINE_KIND_REPLIED);
      entry.set_department_id(e.ticket_replied().department_id());
      entry.set_text(e.ticket_replied().resolution());
      state = v1::TICKET_STATE_REPLIED;
      break;
    case v1::EventEnvelope::kTicketClosed:
      entry.set_kind(v1::TIMELINE_KIND_CLOSED);
      entry.set_department_id(e.ticket_closed().department_id());
      state = v1::TICKET_STATE_CLOSED;
      break;
    case v1::EventEnvelope::kTicketReopened:
      entry.set_kind(v1::TIMELINE_KIND_REOPENED);
      entry.set_department_id(e.ticket_reopened().department_id());
      entry.set_text(e.ticket_reopened().reason());
      state = v1::TICKET_STATE_REOPENED;
      break;
    case v1::EventEnvelope::kSurveyAnswered:
      // A survey does not move the ticket: a reopen, if any, comes as dispatch's own event.
      entry.set_kind(v1::TIMELINE_KIND_SURVEYED);
      entry.set_department_id(e.survey_answered().department_id());
      entry.set_text(SurveyNote(e.survey_answered()));
      break;
    default:
      return false;
  }
  for (const auto& have : p->timeline()) {
    if (SameEntry(have, entry)) return false;
  }
  // Entries stay in time order even if an event of another source arrives late (surveys come on
  // their own topic, so not in step with dispatch's).
  auto* list = p->mutable_timeline();
  list->Add()->CopyFrom(entry);
  for (int i = list->size() - 1; i > 0 && Before(list->Get(i).at(), list->Get(i - 1).at()); --i) {
    list->SwapElements(i, i - 1);
  }
  if (!p->has_updated_at() || Before(p->updated_at(), entry.at())) {
    *p->mutable_updated_at() = entry.at();
  }
  if (state != v1::TICKET_STATE_UNSPECIFIED) {
    p->set_state(state);
    p->set_status(StatusOf(state));
    switch (state) {
      case v1::TICKET_STATE_PENDING_TRIAGE:
      case v1::TICKET_STATE_RETURNED:
        p->clear_department_id();
        break;
      case v1::TICKET_STATE_EXTENSION_GRANTED:
        *p->mutable_expected_at() = entry.deadline();
        break;
      case v1::TICKET_STATE_REOPENED:
        // The old deadline is spent; the new one is the SLA timer's, which intake does not hear.
        p->clear_expected_at();
        [[fallthrough]];
      default:
        if (!entry.department_id().empty()) p->set_department_id(entry.department_id());
    }
  }
  return true;
}

const std::string& TimelineRules::DepartmentName(const std::string& id) const {
  static const std::string kNone;
  auto it = names_.find(id);
  return it == names_.end() ? kNone : it->second;
}

std::string TimelineRules::Describe(const v1::TimelineEntry& e, const v1::Ticket& stored) const {
  const std::string& name = DepartmentName(e.department_id());
  const std::string dept = !name.empty()                ? name
                           : !e.department_id().empty() ? "department " + e.department_id()
                                                        : "the department";
  switch (e.kind()) {
    case v1::TIMELINE_KIND_RECEIVED:
      return absl::StrCat("Received as ticket ", stored.ticket_number());
    case v1::TIMELINE_KIND_SUPPLEMENTED:
      return "You added: " + e.text();
    case v1::TIMELINE_KIND_DISPATCHED:
      return "Dispatched to " + dept;
    case v1::TIMELINE_KIND_REASSIGNING:
      return e.text() == kReturned ? "Being re-assigned to the responsible department"
                                   : "A dispatcher is choosing the responsible department";
    case v1::TIMELINE_KIND_ACCEPTED:
      return "Accepted by " + dept;
    case v1::TIMELINE_KIND_EXTENDED:
      return absl::StrCat(
          "Extension granted to ", dept, ": new deadline ",
          absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(e.deadline().seconds()), zone_));
    case v1::TIMELINE_KIND_REPLIED:
      return absl::StrCat(dept, " replied: ", e.text());
    case v1::TIMELINE_KIND_CLOSED:
      return "Closed";
    case v1::TIMELINE_KIND_SURVEYED:
      return "Follow-up survey answered: " + e.text();
    case v1::TIMELINE_KIND_REOPENED:
      return e.text().empty() ? "Reopened: sent back to " + dept + " to handle again"
                              : absl::StrCat("Reopened: sent back to ", dept, " to handle again (",
                                             e.text(), ")");
    case v1::TIMELINE_KIND_WITHDRAWN:
      return "Withdrawn at your request";
    case v1::TIMELINE_KIND_ANSWERED:
      return "Answered from the knowledge base (" + stored.knowledge_code() + ")";
    case v1::TIMELINE_KIND_MERGED:
      return "Linked to an earlier report of the same problem";
    default:
      return e.text();
  }
}

v1::Ticket TimelineRules::View(const v1::Ticket& stored, const v1::Ticket& progress) const {
  v1::Ticket t = stored;
  t.clear_timeline();
  std::vector<v1::TimelineEntry> entries;
  v1::TimelineEntry received;
  received.set_kind(v1::TIMELINE_KIND_RECEIVED);
  *received.mutable_at() = stored.created_at();
  entries.push_back(received);
  if (stored.state() == v1::TICKET_STATE_DIRECT_ANSWERED ||
      stored.state() == v1::TICKET_STATE_MERGED) {
    v1::TimelineEntry e;
    e.set_kind(stored.state() == v1::TICKET_STATE_MERGED ? v1::TIMELINE_KIND_MERGED
                                                         : v1::TIMELINE_KIND_ANSWERED);
    *e.mutable_at() = stored.created_at();
    entries.push_back(e);
  }
  for (const auto& s : stored.supplements()) {
    v1::TimelineEntry e;
    e.set_kind(v1::TIMELINE_KIND_SUPPLEMENTED);
    *e.mutable_at() = s.added_at();
    e.set_text(s.text());
    entries.push_back(e);
  }
  // intake's own later steps (a withdrawal) are kept in the stored record's timeline.
  for (const auto& e : stored.timeline()) entries.push_back(e);
  for (const auto& e : progress.timeline()) entries.push_back(e);
  std::stable_sort(entries.begin(), entries.end(),
                   [](const v1::TimelineEntry& a, const v1::TimelineEntry& b) {
                     return Before(a.at(), b.at());
                   });
  Timestamp updated = stored.created_at();
  for (auto& e : entries) {
    e.set_text(Describe(e, stored));
    if (!e.department_id().empty()) e.set_department_name(DepartmentName(e.department_id()));
    if (Before(updated, e.at())) updated = e.at();
    *t.add_timeline() = std::move(e);
  }
  *t.mutable_updated_at() = updated;
  // intake's own end states win (dispatch closes a withdrawn ticket on its side too); a ticket
  // dispatch has spoken about shows dispatch's state.
  if (stored.state() == v1::TICKET_STATE_CREATED && progress.state() != 0) {
    t.set_state(progress.state());
  }
  t.set_status(StatusOf(t.state()));
  // A merged report is told where the original stands (its state stays MERGED: intake's fact).
  if (stored.state() == v1::TICKET_STATE_MERGED && progress.status() != 0) {
    t.set_status(progress.status());
  }
  t.set_department_id(progress.department_id());
  t.set_department_name(DepartmentName(progress.department_id()));
  if (progress.has_expected_at()) *t.mutable_expected_at() = progress.expected_at();
  return t;
}

absl::Status TimelineRules::MayWithdraw(const v1::Ticket& view) {
  bool replied = std::any_of(view.timeline().begin(), view.timeline().end(),
                             [](const auto& e) { return e.kind() == v1::TIMELINE_KIND_REPLIED; });
  if (replied || view.state() == v1::TICKET_STATE_CLOSED) {
    return absl::FailedPreconditionError(
        absl::StrCat("ticket is ", v1::TicketState_Name(view.state()),
                     (replied ? ": the department has replied" : ""), "; it cannot be withdrawn"));
  }
  if (view.state() == v1::TICKET_STATE_DIRECT_ANSWERED) {
    return absl::FailedPreconditionError(
        "ticket is TICKET_STATE_DIRECT_ANSWERED and cannot be withdrawn");
  }
  return absl::OkStatus();
}

absl::Status TimelineRules::MaySupplement(const v1::Ticket& view) {
  if (!IsOpen(view)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ticket is ", v1::TicketState_Name(view.state()), "; only open tickets take supplements"));
  }
  return absl::OkStatus();
}

bool TimelineRules::IsOpen(const v1::Ticket& view) {
  switch (view.state()) {
    case v1::TICKET_STATE_CLOSED:
    case v1::TICKET_STATE_MERGED:
    case v1::TICKET_STATE_DIRECT_ANSWERED:
    case v1::TICKET_STATE_WITHDRAWN:
    case v1::TICKET_STATE_UNSPECIFIED:
      return false;
    default:
      return true;
  }
}

}  // namespace hotline::intake

#include "services/dispatch/lifecycle.h"

#include "absl/strings/str_cat.h"

namespace hotline::dispatch {

using S = v1::TicketState;

const char* ActionName(Action a) {
  switch (a) {
    case Action::kAutoDispatch:
      return "auto-dispatch";
    case Action::kTriage:
      return "triage";
    case Action::kAssign:
      return "assign";
    case Action::kAccept:
      return "accept";
    case Action::kReturn:
      return "return";
    case Action::kRequestExtension:
      return "request extension";
    case Action::kGrantExtension:
      return "grant extension";
    case Action::kRefuseExtension:
      return "refuse extension";
    case Action::kReply:
      return "reply";
    case Action::kClose:
      return "close";
    case Action::kReopen:
      return "reopen";
    case Action::kWithdraw:
      return "withdraw";
  }
  return "?";
}

bool WithDepartment(S s) {
  return s == v1::TICKET_STATE_DISPATCHED || s == v1::TICKET_STATE_ACCEPTED ||
         s == v1::TICKET_STATE_EXTENSION_REQUESTED || s == v1::TICKET_STATE_EXTENSION_GRANTED ||
         s == v1::TICKET_STATE_REOPENED;
}

absl::StatusOr<S> NextState(S from, Action a) {
  auto in = [from](std::initializer_list<S> states) {
    for (S s : states) {
      if (s == from) return true;
    }
    return false;
  };
  bool ok = false;
  S to = from;
  switch (a) {
    case Action::kAutoDispatch:
      ok = in({v1::TICKET_STATE_CREATED});
      to = v1::TICKET_STATE_DISPATCHED;
      break;
    case Action::kTriage:
      ok = in({v1::TICKET_STATE_CREATED});
      to = v1::TICKET_STATE_PENDING_TRIAGE;
      break;
    case Action::kAssign:
      ok = in({v1::TICKET_STATE_PENDING_TRIAGE, v1::TICKET_STATE_RETURNED});
      to = v1::TICKET_STATE_DISPATCHED;
      break;
    case Action::kAccept:
      ok = in({v1::TICKET_STATE_DISPATCHED, v1::TICKET_STATE_REOPENED});
      to = v1::TICKET_STATE_ACCEPTED;
      break;
    case Action::kReturn:
      // A department returns a ticket before it signs for it (签收后不得退回).
      ok = in({v1::TICKET_STATE_DISPATCHED});
      to = v1::TICKET_STATE_RETURNED;
      break;
    case Action::kRequestExtension:
      ok = in({v1::TICKET_STATE_ACCEPTED});
      to = v1::TICKET_STATE_EXTENSION_REQUESTED;
      break;
    case Action::kGrantExtension:
      ok = in({v1::TICKET_STATE_EXTENSION_REQUESTED});
      to = v1::TICKET_STATE_EXTENSION_GRANTED;
      break;
    case Action::kRefuseExtension:
      ok = in({v1::TICKET_STATE_EXTENSION_REQUESTED});
      to = v1::TICKET_STATE_ACCEPTED;
      break;
    case Action::kReply:
      ok = in({v1::TICKET_STATE_ACCEPTED, v1::TICKET_STATE_EXTENSION_GRANTED});
      to = v1::TICKET_STATE_REPLIED;
      break;
    case Action::kClose:
      ok = in({v1::TICKET_STATE_REPLIED});
      to = v1::TICKET_STATE_CLOSED;
      break;
    case Action::kReopen:
      ok = in({v1::TICKET_STATE_REPLIED, v1::TICKET_STATE_CLOSED});
      to = v1::TICKET_STATE_REOPENED;
      break;
    case Action::kWithdraw:
      ok = in({v1::TICKET_STATE_CREATED, v1::TICKET_STATE_PENDING_TRIAGE,
               v1::TICKET_STATE_DISPATCHED, v1::TICKET_STATE_RETURNED, v1::TICKET_STATE_ACCEPTED});
      to = v1::TICKET_STATE_WITHDRAWN;
      break;
  }
  if (!ok) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot ", ActionName(a), " a ticket in state ", v1::TicketState_Name(from)));
  }
  return to;
}

}  // namespace hotline::dispatch

#pragma once

#include "absl/status/statusor.h"
#include "hotline/v1/common.pb.h"

namespace hotline::dispatch {

// What can happen to a ticket in dispatch (DESIGN.md "The ticket's life").
enum class Action {
  kAutoDispatch,      // the classifier was confident
  kTriage,            // it was not: a human dispatcher decides
  kAssign,            // a dispatcher sends it to a department (from triage or after a return)
  kAccept,            // 签收
  kReturn,            // 退回: "not ours", back to triage
  kRequestExtension,  // 延期
  kGrantExtension,
  kRefuseExtension,
  kReply,     // 办结
  kClose,     // the hotline centre accepts the reply
  kReopen,    // 重办, after review or a negative survey
  kWithdraw,  // the citizen withdrew it at intake
};

const char* ActionName(Action a);

// The state after `action`, or FAILED_PRECONDITION naming both when the move is illegal.
// Pure: the whole state machine in one table, tested on its own.
absl::StatusOr<v1::TicketState> NextState(v1::TicketState from, Action action);

// States in which the ticket is with a department (it may act on it).
bool WithDepartment(v1::TicketState s);

}  // namespace hotline::dispatch

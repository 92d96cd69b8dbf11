#pragma once

#include <string>

#include "hotline/v1/common.pb.h"

namespace hotline::intake {

// Ticket type from the caller's hint or, without one, from the words of the request
// (Chinese and English cue phrases, weighted; questions lean to consultation).
v1::TicketType DetectType(const std::string& normalized_text, v1::TicketType hint);

// Urgent requests (gas leak, burst water main, someone trapped in a lift, fire, collapse,
// fallen power line...) are timed and dispatched first. Returns the cue that matched, or "".
std::string UrgentCue(const std::string& normalized_text);

}  // namespace hotline::intake

#pragma once

#include "hotline/v1/sla_timer.grpc.pb.h"

namespace hotline::sla_timer {

// Durable SLA clocks and cards: behaviour arrives with issue 5.
// SlaService: registered so clients and reflection see the API; every RPC answers UNIMPLEMENTED
// until it is built.
class SlaServiceImpl final : public v1::SlaService::CallbackService {};

}  // namespace hotline::sla_timer

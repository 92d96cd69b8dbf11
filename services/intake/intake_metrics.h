#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

#include "hotline/v1/intake.pb.h"

namespace hotline::intake {

// intake's series (label values are bounded enums, never ids):
//   hotline_intake_requests_total{channel,type,outcome}  outcome: created, direct_answered,
//                                                        merged, replayed, rejected, failed
//   hotline_intake_request_duration_seconds{method}
//   hotline_intake_verification_lockouts_total{scope}   scope: ticket, caller
//   hotline_intake_open311_refused_total{reason}        reason: too_large, length_required,
//                                                       unauthorized, busy, timeout, bad_request
class IntakeMetrics {
 public:
  explicit IntakeMetrics(prometheus::Registry& registry);
  void CountSubmission(v1::Channel channel, v1::TicketType type, const std::string& outcome);
  void ObserveLatency(const std::string& method, double seconds);
  void CountLockout(const std::string& scope);
  void CountOpen311Refused(const std::string& reason);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Counter>& lockouts_;
  prometheus::Family<prometheus::Counter>& open311_refused_;
};

std::string ChannelLabel(v1::Channel c);
std::string TypeLabel(v1::TicketType t);
std::string OutcomeLabel(v1::SubmitOutcome o, bool replayed);

}  // namespace hotline::intake

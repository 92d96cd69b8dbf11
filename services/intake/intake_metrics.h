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
class IntakeMetrics {
 public:
  explicit IntakeMetrics(prometheus::Registry& registry);
  void CountSubmission(v1::Channel channel, v1::TicketType type, const std::string& outcome);
  void ObserveLatency(const std::string& method, double seconds);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

std::string ChannelLabel(v1::Channel c);
std::string TypeLabel(v1::TicketType t);
std::string OutcomeLabel(v1::SubmitOutcome o, bool replayed);

}  // namespace hotline::intake

#include "services/intake/intake_metrics.h"

#include "services/common/events.h"

namespace hotline::intake {

std::string ChannelLabel(v1::Channel c) { return EnumLabel(v1::Channel_Name(c), 8); }
std::string TypeLabel(v1::TicketType t) { return EnumLabel(v1::TicketType_Name(t), 12); }
std::string OutcomeLabel(v1::SubmitOutcome o, bool replayed) {
  if (replayed) return "replayed";
  return EnumLabel(v1::SubmitOutcome_Name(o), 15);
}

IntakeMetrics::IntakeMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("hotline_intake_requests_total")
                    .Help("Submissions by channel, ticket type and outcome")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("hotline_intake_request_duration_seconds")
                   .Help("Time to answer an IntakeService call, by method")
                   .Register(registry)),
      lockouts_(prometheus::BuildCounter()
                    .Name("hotline_intake_verification_lockouts_total")
                    .Help("Verification codes locked after too many wrong attempts, by scope "
                          "(ticket or caller)")
                    .Register(registry)),
      open311_refused_(
          prometheus::BuildCounter()
              .Name("hotline_intake_open311_refused_total")
              .Help("Open311 HTTP requests refused before reaching the core, by reason")
              .Register(registry)) {
  // Zero series exist from the start, so alerts and dashboards see 0 rather than nothing.
  for (const char* s : {"ticket", "caller"}) lockouts_.Add({{"scope", s}});
  for (const char* r :
       {"too_large", "length_required", "unauthorized", "busy", "timeout", "bad_request"}) {
    open311_refused_.Add({{"reason", r}});
  }
}

void IntakeMetrics::CountLockout(const std::string& scope) {
  lockouts_.Add({{"scope", scope}}).Increment();
}

void IntakeMetrics::CountOpen311Refused(const std::string& reason) {
  open311_refused_.Add({{"reason", reason}}).Increment();
}

void IntakeMetrics::CountSubmission(v1::Channel channel, v1::TicketType type,
                                    const std::string& outcome) {
  requests_
      .Add({{"channel", ChannelLabel(channel)}, {"type", TypeLabel(type)}, {"outcome", outcome}})
      .Increment();
}

void IntakeMetrics::ObserveLatency(const std::string& method, double seconds) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  latency_.Add({{"method", method}}, kBuckets).Observe(seconds);
}

}  // namespace hotline::intake

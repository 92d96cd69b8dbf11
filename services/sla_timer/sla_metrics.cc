#include "services/sla_timer/sla_metrics.h"

namespace hotline::sla {

SlaMetrics::SlaMetrics(prometheus::Registry& r)
    : active_(&prometheus::BuildGauge()
                   .Name("hotline_sla_active_clocks")
                   .Help("SLA clocks scheduled in this instance")
                   .Register(r)
                   .Add({})),
      owned_(&prometheus::BuildGauge()
                  .Name("hotline_sla_owned_partitions")
                  .Help("Partition leases this instance holds: it fires their clocks")
                  .Register(r)
                  .Add({})),
      warnings_(prometheus::BuildCounter()
                    .Name("hotline_sla_warnings_total")
                    .Help("SLA warnings fired")
                    .Register(r)),
      breaches_(prometheus::BuildCounter()
                    .Name("hotline_sla_breaches_total")
                    .Help("SLA deadlines breached")
                    .Register(r)),
      cards_(prometheus::BuildCounter()
                 .Name("hotline_sla_cards_total")
                 .Help("Yellow and red cards issued")
                 .Register(r)),
      lag_(&prometheus::BuildHistogram()
                .Name("hotline_sla_firing_lag_seconds")
                .Help("From the moment a warning or breach fell due to its event being committed")
                .Register(r)
                .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1,
                                                                 0.25, 0.5, 1, 2.5, 5, 10, 60})) {}

}  // namespace hotline::sla

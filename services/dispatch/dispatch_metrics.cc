#include "services/dispatch/dispatch_metrics.h"

namespace hotline::dispatch {

DispatchMetrics::DispatchMetrics(prometheus::Registry& r)
    : decisions_(prometheus::BuildCounter()
                     .Name("hotline_dispatch_decisions_total")
                     .Help("How new tickets were routed: auto (classifier), manual (dispatcher), "
                           "triage (queued for a human)")
                     .Register(r)),
      transitions_(prometheus::BuildCounter()
                       .Name("hotline_dispatch_transitions_total")
                       .Help("Ticket state changes by action")
                       .Register(r)),
      returns_(prometheus::BuildCounter()
                   .Name("hotline_dispatch_returns_total")
                   .Help("Tickets returned (退单) by the department they were sent to")
                   .Register(r)),
      classify_(
          &prometheus::BuildHistogram()
               .Name("hotline_dispatch_classification_seconds")
               .Help("Time to classify one ticket")
               .Register(r)
               .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001,
                                                                0.0025, 0.005, 0.01, 0.025, 0.05})),
      model_(prometheus::BuildGauge()
                 .Name("hotline_dispatch_model_info")
                 .Help("The classifier model in use (value 1)")
                 .Register(r)),
      open_streams_(&prometheus::BuildGauge()
                         .Name("hotline_dispatch_open_streams")
                         .Help("Open StreamAssignedTickets calls, all fed by one notifier thread")
                         .Register(r)
                         .Add({})) {}

void DispatchMetrics::Model(const std::string& version) {
  if (current_model_) current_model_->Set(0);
  current_model_ = &model_.Add({{"version", version}});
  current_model_->Set(1);
}

}  // namespace hotline::dispatch

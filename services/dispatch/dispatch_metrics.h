#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

namespace hotline::dispatch {

// dispatch's series:
//   hotline_dispatch_decisions_total{mode}            auto, manual, triage
//   hotline_dispatch_transitions_total{action}        accept, return, reply, close, reopen...
//   hotline_dispatch_returns_total{department}        退单 per department (bounded: the directory)
//   hotline_dispatch_classification_seconds           time to classify one ticket
//   hotline_dispatch_model_info{version}              1 for the model in use
//   hotline_dispatch_open_streams                     open StreamAssignedTickets calls
//   (DISPATCH_MAX_STREAMS caps them)
class DispatchMetrics {
 public:
  explicit DispatchMetrics(prometheus::Registry& r);
  void Decision(const std::string& mode) { decisions_.Add({{"mode", mode}}).Increment(); }
  void Transition(const std::string& action) { transitions_.Add({{"action", action}}).Increment(); }
  void Returned(const std::string& dept) { returns_.Add({{"department", dept}}).Increment(); }
  void Classified(double seconds) { classify_->Observe(seconds); }
  void Model(const std::string& version);
  void OpenStreams(size_t n) { open_streams_->Set(static_cast<double>(n)); }

 private:
  prometheus::Family<prometheus::Counter>& decisions_;
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Family<prometheus::Counter>& returns_;
  prometheus::Histogram* classify_;
  prometheus::Family<prometheus::Gauge>& model_;
  prometheus::Gauge* current_model_ = nullptr;
  prometheus::Gauge* open_streams_;
};

}  // namespace hotline::dispatch

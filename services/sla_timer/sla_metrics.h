#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

namespace hotline::sla {

// sla_timer's series (department labels are bounded by the department directory):
//   hotline_sla_active_clocks                       clocks scheduled in this instance's wheel
//   hotline_sla_owned_partitions                    partition leases this instance holds (fires)
//   hotline_sla_warnings_total{department,type}
//   hotline_sla_breaches_total{department,type}
//   hotline_sla_cards_total{color}
//   hotline_sla_firing_lag_seconds                  due time → event committed
class SlaMetrics {
 public:
  explicit SlaMetrics(prometheus::Registry& r);
  void Active(size_t n) { active_->Set(static_cast<double>(n)); }
  void Owned(size_t n) { owned_->Set(static_cast<double>(n)); }
  void Warning(const std::string& dept, const std::string& type) {
    warnings_.Add({{"department", dept}, {"type", type}}).Increment();
  }
  void Breach(const std::string& dept, const std::string& type) {
    breaches_.Add({{"department", dept}, {"type", type}}).Increment();
  }
  void Card(const std::string& color) { cards_.Add({{"color", color}}).Increment(); }
  void Lag(double seconds) { lag_->Observe(seconds); }

 private:
  prometheus::Gauge* active_;
  prometheus::Gauge* owned_;
  prometheus::Family<prometheus::Counter>& warnings_;
  prometheus::Family<prometheus::Counter>& breaches_;
  prometheus::Family<prometheus::Counter>& cards_;
  prometheus::Histogram* lag_;
};

}  // namespace hotline::sla

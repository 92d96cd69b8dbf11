#pragma once

#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace hotline::survey {

// The survey's own series. Outcomes are counted, not hidden: an UNREACHABLE or OPTED_OUT survey
// is as visible as an answered one (回访率 and reachability are computed from these).
class SurveyMetrics {
 public:
  explicit SurveyMetrics(prometheus::Registry& registry);

  // hotline_survey_scheduled_total{type}: surveys planned with at least one attempt to make.
  void Scheduled(const std::string& type) { scheduled_->Add({{"type", type}}).Increment(); }
  // hotline_survey_attempts_total{channel,result}: result delivered | failed | refused |
  // no_address (the channel the attempt was for has no address any more).
  void Attempt(const std::string& channel, const std::string& result) {
    attempts_->Add({{"channel", channel}, {"result", result}}).Increment();
  }
  // hotline_survey_outcomes_total{state}: answered | unreachable | opted_out | cancelled.
  void Outcome(const std::string& state) { outcomes_->Add({{"state", state}}).Increment(); }
  // hotline_survey_backlog: surveys scheduled or contacting, not yet final.
  void SetBacklog(double n) { backlog_->Set(n); }

 private:
  prometheus::Family<prometheus::Counter>* scheduled_;
  prometheus::Family<prometheus::Counter>* attempts_;
  prometheus::Family<prometheus::Counter>* outcomes_;
  prometheus::Gauge* backlog_;
};

}  // namespace hotline::survey

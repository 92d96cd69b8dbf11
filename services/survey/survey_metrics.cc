#include "services/survey/survey_metrics.h"

namespace hotline::survey {

SurveyMetrics::SurveyMetrics(prometheus::Registry& registry)
    : scheduled_(&prometheus::BuildCounter()
                      .Name("hotline_survey_scheduled_total")
                      .Help("Callback surveys planned, by ticket type")
                      .Register(registry)),
      attempts_(&prometheus::BuildCounter()
                     .Name("hotline_survey_attempts_total")
                     .Help("Survey contact attempts, by channel and result")
                     .Register(registry)),
      outcomes_(&prometheus::BuildCounter()
                     .Name("hotline_survey_outcomes_total")
                     .Help("Surveys that reached a final state, by state")
                     .Register(registry)),
      backlog_(&prometheus::BuildGauge()
                    .Name("hotline_survey_backlog")
                    .Help("Surveys scheduled or contacting, not yet final")
                    .Register(registry)
                    .Add({})) {}

}  // namespace hotline::survey

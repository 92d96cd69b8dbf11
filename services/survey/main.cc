#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>

#include "hotline/v1/intake.grpc.pb.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/service_runner.h"
#include "services/common/tls.h"
#include "services/survey/survey_config.h"
#include "services/survey/survey_engine.h"
#include "services/survey/survey_service.h"

namespace {

struct Survey {
  hotline::survey::SurveyConfig config;
  std::unique_ptr<hotline::survey::SurveyScheduler> scheduler;
  std::unique_ptr<hotline::survey::SurveyMetrics> metrics;
  std::unique_ptr<hotline::WebhookClient> gateway;
  std::unique_ptr<hotline::v1::IntakeService::Stub> intake;
  std::unique_ptr<hotline::survey::SurveyEngine> engine;
};

}  // namespace

int main() {
  using namespace hotline::survey;
  hotline::ServiceSpec spec;
  spec.name = "survey";
  spec.consumes = {hotline::kTicketsTopic};
  spec.setup = [](hotline::ServiceContext& ctx) -> absl::Status {
    hotline::EnvReader env;
    Survey& s = *ctx.Own(std::make_unique<Survey>());
    auto config = LoadSurveyConfig(env);
    if (!config.ok()) return config.status();
    s.config = std::move(*config);
    s.scheduler = std::make_unique<SurveyScheduler>(*s.config.policies, *s.config.calendars);
    s.metrics = std::make_unique<SurveyMetrics>(ctx.metrics->registry());
    auto gateway = hotline::WebhookClient::Create(s.config.gateway);
    if (!gateway.ok()) return gateway.status();
    s.gateway = std::make_unique<hotline::WebhookClient>(std::move(*gateway));
    // Intake over gRPC with the survey's own token: the contact lookup is allowed to the
    // service role only.
    auto tls = hotline::ClientTlsFromEnv(env);
    if (!tls.ok()) return tls.status();
    auto channel = hotline::CreateClientChannel(s.config.intake_addr, *tls);
    if (!channel.ok()) return channel.status();
    s.intake = hotline::v1::IntakeService::NewStub(*channel);
    auto* stub = s.intake.get();
    const std::string auth = s.config.intake_token.empty() ? "" : "Bearer " + s.config.intake_token;
    const auto timeout = absl::ToChronoMilliseconds(s.config.intake_timeout);
    ContactLookup lookup = [stub, auth, timeout](const std::string& ticket_id)
        -> absl::StatusOr<hotline::v1::GetCallbackContactResponse> {
      grpc::ClientContext cc;
      cc.set_deadline(std::chrono::system_clock::now() + timeout);
      if (!auth.empty()) cc.AddMetadata("authorization", auth);
      hotline::v1::GetCallbackContactRequest req;
      req.set_ticket_id(ticket_id);
      hotline::v1::GetCallbackContactResponse resp;
      grpc::Status st = stub->GetCallbackContact(&cc, req, &resp);
      if (!st.ok()) {
        return absl::Status(static_cast<absl::StatusCode>(st.error_code()),
                            "intake GetCallbackContact: " + st.error_message());
      }
      return resp;
    };
    SurveyEngineOptions opts;
    opts.gateway_url = s.config.gateway_url;
    opts.tick = s.config.tick;
    opts.answer_wait = s.config.answer_wait;
    opts.claim_timeout = s.config.claim_timeout;
    s.engine = std::make_unique<SurveyEngine>(ctx.redis, ctx.outbox, ctx.applier, s.scheduler.get(),
                                              s.config.policies.get(), std::move(lookup),
                                              s.gateway.get(), opts, s.metrics.get());
    SurveyEngine* engine = s.engine.get();
    ctx.grpc_services.push_back(std::make_unique<SurveyServiceImpl>(engine, ctx.rpc));
    ctx.handler = [engine](const hotline::v1::EventEnvelope& e, const hotline::MessageMeta&) {
      return engine->HandleEvent(e);
    };
    hotline::LogInfo("survey policy loaded",
                     {{"rows", std::to_string(s.config.policies->policies().size())},
                      {"intake", s.config.intake_addr}});
    if (s.config.gateway_url.empty()) {
      hotline::LogWarn(
          "SURVEY_GATEWAY_URL not set: surveys are planned and answers recorded, but nobody is "
          "contacted");
    } else {
      engine->Start();
    }
    ctx.on_shutdown.push_back([engine] { engine->Stop(); });
    return absl::OkStatus();
  };
  return hotline::RunService(spec);
}

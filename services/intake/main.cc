#include <memory>

#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/service_runner.h"
#include "services/intake/intake_config.h"
#include "services/intake/intake_service.h"
#include "services/intake/open311.h"
#include "services/intake/redis_attempt_store.h"
#include "services/intake/redis_ticket_store.h"

namespace {

// Intake's parts; RunService owns them (ServiceContext::Own) and destroys them after the server
// and the relay have stopped.
struct Intake {
  hotline::intake::IntakeConfig config;
  std::unique_ptr<hotline::intake::KnowledgeBase> kb;
  std::unique_ptr<hotline::intake::RedisTicketStore> store;
  std::unique_ptr<hotline::intake::RedisAttemptStore> attempts;
  std::unique_ptr<hotline::intake::VerificationThrottle> throttle;
  std::unique_ptr<hotline::intake::IntakeCore> core;
  std::unique_ptr<hotline::intake::IntakeMetrics> metrics;
  std::unique_ptr<hotline::intake::Open311Server> open311;
};

}  // namespace

int main() {
  using namespace hotline::intake;
  hotline::ServiceSpec spec;
  spec.name = "intake";
  // dispatch's and survey's events feed the citizen-facing timeline (TimelineRules).
  spec.consumes = {hotline::kTicketsTopic, hotline::kSurveysTopic};
  spec.setup = [](hotline::ServiceContext& ctx) -> absl::Status {
    Intake& intake = *ctx.Own(std::make_unique<Intake>());
    auto config = LoadIntakeConfig(hotline::EnvReader());
    if (!config.ok()) return config.status();
    intake.config = *config;
    if (intake.config.dev_pseudonym_key) {
      hotline::LogWarn(
          "INTAKE_PSEUDONYM_KEY not set: citizen ids use the development key; "
          "set a secret key in production");
    }
    auto kb = KnowledgeBase::LoadFile(intake.config.knowledge_base_path);
    if (!kb.ok())
      return absl::InvalidArgumentError("INTAKE_KNOWLEDGE_BASE: " +
                                        std::string(kb.status().message()));
    intake.kb = std::move(*kb);
    hotline::LogInfo("knowledge base loaded", {{"entries", std::to_string(intake.kb->size())},
                                               {"path", intake.config.knowledge_base_path}});
    intake.store = std::make_unique<RedisTicketStore>(ctx.redis, ctx.outbox, ctx.applier);
    intake.metrics = std::make_unique<IntakeMetrics>(ctx.metrics->registry());
    intake.attempts = std::make_unique<RedisAttemptStore>(ctx.redis);
    intake.throttle = std::make_unique<VerificationThrottle>(
        intake.attempts.get(), intake.config.verification,
        [m = intake.metrics.get()](const Lockout& l) { m->CountLockout(l.scope); });
    intake.core = std::make_unique<IntakeCore>(intake.store.get(), intake.kb.get(),
                                               intake.throttle.get(), intake.config.core);
    IntakeCore* core = intake.core.get();
    ctx.handler = [core](const hotline::v1::EventEnvelope& e, const hotline::MessageMeta&) {
      return core->HandleEvent(e);
    };
    ctx.grpc_services.push_back(
        std::make_unique<IntakeServiceImpl>(intake.core.get(), intake.metrics.get(), ctx.rpc));
    if (!intake.config.open311_addr.empty()) {
      auto http = Open311Server::Start(intake.config.open311_addr, intake.config.open311,
                                       intake.core.get(), intake.metrics.get(), ctx.auth);
      if (!http.ok()) return http.status();
      intake.open311 = std::move(*http);
      hotline::LogInfo("Open311 GeoReport v2 listening",
                       {{"port", std::to_string(intake.open311->port())}});
      Open311Server* open311 = intake.open311.get();
      ctx.on_shutdown.push_back([open311] { open311->Stop(); });
    }
    return absl::OkStatus();
  };
  return hotline::RunService(spec);
}

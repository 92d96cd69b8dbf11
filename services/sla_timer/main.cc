#include <unistd.h>

#include <memory>

#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/service_runner.h"
#include "services/sla_timer/sla_config.h"
#include "services/sla_timer/sla_service.h"

namespace {

struct Sla {
  hotline::sla::SlaConfig config;
  std::unique_ptr<hotline::sla::SlaMetrics> metrics;
  std::unique_ptr<hotline::sla::SlaEngine> engine;
};

}  // namespace

int main() {
  using namespace hotline::sla;
  hotline::ServiceSpec spec;
  spec.name = "sla_timer";
  spec.consumes = {hotline::kTicketsTopic};
  spec.setup = [](hotline::ServiceContext& ctx) -> absl::Status {
    Sla& s = *ctx.Own(std::make_unique<Sla>());
    auto config = LoadSlaConfig(hotline::EnvReader());
    if (!config.ok()) return config.status();
    s.config = std::move(*config);
    hotline::LogInfo("SLA calendars and policies loaded",
                     {{"calendars", std::to_string(s.config.options.calendars.size())},
                      {"default", s.config.options.default_calendar}});
    // Unique per process: a restarted instance is a new owner and waits for its predecessor's
    // leases to expire rather than firing alongside a process that may still be alive.
    s.config.options.owner = ctx.config.instance_id + ":" + std::to_string(getpid());
    s.metrics = std::make_unique<SlaMetrics>(ctx.metrics->registry());
    s.engine =
        std::make_unique<SlaEngine>(ctx.redis, ctx.outbox, ctx.applier, s.config.policies.get(),
                                    s.config.options, s.metrics.get());
    ctx.grpc_services.push_back(std::make_unique<SlaServiceImpl>(s.engine.get(), ctx.rpc));
    SlaEngine* engine = s.engine.get();
    ctx.handler = [engine](const hotline::v1::EventEnvelope& e, const hotline::MessageMeta& m) {
      return engine->HandleEvent(e, m);
    };
    ctx.on_assigned = [engine](const hotline::TopicPartitionList& tps) { engine->OnAssigned(tps); };
    ctx.on_revoked = [engine](const hotline::TopicPartitionList& tps) { engine->OnRevoked(tps); };
    engine->Start();
    ctx.on_shutdown.push_back([engine] { engine->Stop(); });
    return absl::OkStatus();
  };
  return hotline::RunService(spec);
}

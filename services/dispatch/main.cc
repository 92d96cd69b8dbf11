#include <memory>

#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/service_runner.h"
#include "services/dispatch/dispatch_config.h"
#include "services/dispatch/dispatch_service.h"
#include "services/dispatch/ticket_repository.h"

namespace {

// Members are destroyed bottom-up: the model watcher (in `models`) stops before the metrics it
// reports to go away.
struct Dispatch {
  hotline::dispatch::DispatchConfig config;
  std::unique_ptr<hotline::dispatch::ResponsibilityMatrix> matrix;
  std::unique_ptr<hotline::dispatch::DispatchMetrics> metrics;
  std::unique_ptr<hotline::dispatch::ModelHolder> models;
  std::unique_ptr<hotline::dispatch::TicketRepository> repo;
  std::unique_ptr<hotline::dispatch::Dispatcher> dispatcher;
  std::unique_ptr<hotline::dispatch::AssignmentNotifier> notifier;
};

}  // namespace

int main() {
  using namespace hotline::dispatch;
  hotline::ServiceSpec spec;
  spec.name = "dispatch";
  spec.consumes = {hotline::kTicketsTopic, hotline::kSurveysTopic};
  spec.setup = [](hotline::ServiceContext& ctx) -> absl::Status {
    Dispatch& d = *ctx.Own(std::make_unique<Dispatch>());
    auto config = LoadDispatchConfig(hotline::EnvReader());
    if (!config.ok()) return config.status();
    d.config = *config;
    auto matrix =
        ResponsibilityMatrix::Load(d.config.departments_path, d.config.responsibility_path);
    if (!matrix.ok())
      return absl::InvalidArgumentError("DISPATCH_RESPONSIBILITY: " +
                                        std::string(matrix.status().message()));
    d.matrix = std::move(*matrix);
    auto model = TextClassifier::Load(d.config.model_path);
    if (!model.ok())
      return absl::InvalidArgumentError("DISPATCH_MODEL: " + std::string(model.status().message()));
    hotline::LogInfo("classifier model loaded",
                     {{"version", (*model)->version()},
                      {"labels", std::to_string((*model)->labels().size())},
                      {"threshold", std::to_string(d.config.options.threshold >= 0
                                                       ? d.config.options.threshold
                                                       : (*model)->recommended_threshold())}});
    d.metrics = std::make_unique<DispatchMetrics>(ctx.metrics->registry());
    d.metrics->Model((*model)->version());
    d.models =
        std::make_unique<ModelHolder>(std::shared_ptr<const TextClassifier>(std::move(*model)));
    d.models->Watch(d.config.model_path, d.config.model_reload,
                    [m = d.metrics.get()](const std::string& version) { m->Model(version); });
    d.repo = std::make_unique<TicketRepository>(ctx.redis, ctx.outbox, ctx.applier);
    d.dispatcher = std::make_unique<Dispatcher>(d.repo.get(), d.models.get(), d.matrix.get(),
                                                d.metrics.get(), d.config.options);
    // The department streams' notifier blocks in XREAD: it gets a connection of its own.
    auto endpoint = hotline::ParseRedisUrl(ctx.config.redis_url);
    if (!endpoint.ok())
      return absl::InvalidArgumentError("REDIS_URL: " + std::string(endpoint.status().message()));
    AssignmentNotifier::Options nopts;
    nopts.max_streams = static_cast<size_t>(d.config.max_streams);
    d.notifier = std::make_unique<AssignmentNotifier>(
        std::make_unique<hotline::RedisClient>(*endpoint), nopts, d.metrics.get());
    ctx.grpc_services.push_back(std::make_unique<TriageServiceImpl>(d.dispatcher.get(), ctx.rpc));
    ctx.grpc_services.push_back(
        std::make_unique<DepartmentServiceImpl>(d.dispatcher.get(), ctx.rpc, d.notifier.get()));
    ctx.grpc_services.push_back(
        std::make_unique<SupervisionServiceImpl>(d.dispatcher.get(), ctx.rpc));
    // Threads stop before what they use goes away (the watcher reports to the metrics, the
    // notifier feeds the streams the drained server no longer has).
    ctx.on_shutdown.push_back([notifier = d.notifier.get(), models = d.models.get()] {
      notifier->Stop();
      models->Stop();
    });
    Dispatcher* dispatcher = d.dispatcher.get();
    ctx.handler = [dispatcher](const hotline::v1::EventEnvelope& e, const hotline::MessageMeta&) {
      return dispatcher->HandleEvent(e);
    };
    return absl::OkStatus();
  };
  return hotline::RunService(spec);
}

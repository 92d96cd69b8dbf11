#include "services/common/service_runner.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/log.h"
#include "services/common/tls.h"

namespace hotline {
namespace {

using std::chrono::milliseconds;

int ConfigError(const std::string& service, const absl::Status& s) {
  std::cerr << "hotline-" << service << ": configuration error: " << s.message() << std::endl;
  return 2;
}

}  // namespace

int RunService(const ServiceSpec& spec) {
  // Block the stop signals before any thread starts, so only the sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto config = LoadCommonConfig(spec.name, EnvReader());
  if (!config.ok()) return ConfigError(spec.name, config.status());
  auto endpoint = ParseRedisUrl(config->redis_url);
  if (!endpoint.ok()) return ConfigError(spec.name, endpoint.status());
  InitLogging(spec.name, config->instance_id, ParseLogLevel(config->log_level));

  auto metrics = Metrics::Start(spec.name, config->metrics_addr);
  if (!metrics.ok()) return ConfigError(spec.name, metrics.status());

  RedisClient redis(*endpoint);
  KafkaProducerOptions popts;
  popts.brokers = config->kafka_brokers;
  popts.client_id = absl::StrCat("hotline-", spec.name, "-", config->instance_id);
  auto producer = KafkaProducer::Create(popts);
  if (!producer.ok()) return ConfigError(spec.name, producer.status());

  Outbox outbox(&redis, spec.name + ":outbox");
  IdempotentApplier applier(&redis, spec.name);
  std::unique_ptr<OutboxRelay> relay;
  if (spec.publishes) {
    OutboxRelayOptions ropts;
    ropts.key = outbox.key();
    ropts.owner = config->instance_id + ":" + std::to_string(getpid());
    relay = std::make_unique<OutboxRelay>(&redis, producer->get(), ropts);
    Metrics* m = metrics->get();
    relay->on_pass = [m](int delivered, int failed) { m->CountOutbox(delivered, failed); };
    relay->on_pending = [m](int64_t pending) { m->SetOutboxPending(pending); };
    OutboxRelay* r = relay.get();
    outbox.SetOnCommit([r] { r->Wake(); });
  }

  auto auth = Authenticator::FromEnv(EnvReader());
  if (!auth.ok()) return ConfigError(spec.name, auth.status());
  if ((*auth)->disabled()) {
    LogWarn("AUTHENTICATION DISABLED (HOTLINE_AUTH_DISABLED=1): every caller is treated as a "
            "supervisor. Development only.");
  }

  ServiceContext ctx;
  ctx.config = *config;
  ctx.auth = auth->get();
  ctx.redis = &redis;
  ctx.metrics = metrics->get();
  ctx.outbox = spec.publishes ? &outbox : nullptr;
  ctx.applier = &applier;
  if (spec.setup) {
    if (auto s = spec.setup(ctx); !s.ok()) return ConfigError(spec.name, s);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  auto grpc_credentials = ServerCredentialsFromEnv(EnvReader());  // TLS unless explicitly plain
  if (!grpc_credentials.ok()) return ConfigError(spec.name, grpc_credentials.status());
  builder.AddListeningPort(config->grpc_addr, *grpc_credentials, &grpc_port);
  for (auto& svc : ctx.grpc_services) builder.RegisterService(svc.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || grpc_port == 0) {
    return ConfigError(spec.name, absl::UnavailableError(absl::StrCat(
                                      "HOTLINE_GRPC_ADDR: cannot listen on ", config->grpc_addr)));
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(false);  // until the first dependency check passes

  std::unique_ptr<KafkaConsumer> consumer;
  if (!spec.consumes.empty()) {
    if (!ctx.handler) {
      return ConfigError(spec.name, absl::InternalError("service consumes but has no handler"));
    }
    KafkaConsumerOptions copts;
    copts.brokers = config->kafka_brokers;
    copts.group_id = config->kafka_group_id;
    copts.topics = spec.consumes;
    copts.client_id = popts.client_id;
    copts.session_timeout_ms = config->session_timeout_ms;
    copts.heartbeat_interval_ms = config->heartbeat_interval_ms;
    copts.on_assigned = ctx.on_assigned;
    copts.on_revoked = ctx.on_revoked;
    Metrics* m = metrics->get();
    copts.observe = [m](const std::string& topic, const char* outcome) {
      m->CountConsumed(topic, outcome);
    };
    auto c = KafkaConsumer::Create(copts, ctx.handler, producer->get());
    if (!c.ok()) return ConfigError(spec.name, c.status());
    consumer = std::move(*c);
    consumer->Start();
  }
  if (relay) relay->Start();

  LogInfo("service started",
          {{"grpc_port", std::to_string(grpc_port)},
           {"metrics_port", std::to_string((*metrics)->port())},
           {"redis", absl::StrCat(endpoint->host, ":", endpoint->port)},
           {"kafka", config->kafka_brokers},
           {"consumes", absl::StrJoin(spec.consumes, ",")}});

  // Health loop: SERVING only while both dependencies answer.
  std::atomic<bool> stopping{false};
  std::thread health_loop([&] {
    bool last = false;
    bool first = true;
    while (!stopping.load()) {
      absl::Status redis_ok = redis.Ping();
      absl::Status kafka_ok = (*producer)->CheckBrokers(milliseconds(1500));
      bool ok = redis_ok.ok() && kafka_ok.ok();
      (*metrics)->SetDependencyUp("redis", redis_ok.ok());
      (*metrics)->SetDependencyUp("kafka", kafka_ok.ok());
      if (stopping.load()) break;
      health->SetServingStatus(ok);
      if (first || ok != last) {
        LogInfo(ok ? "health: SERVING" : "health: NOT_SERVING",
                {{"redis", redis_ok.ok() ? "ok" : std::string(redis_ok.message())},
                 {"kafka", kafka_ok.ok() ? "ok" : std::string(kafka_ok.message())}});
      }
      first = false;
      last = ok;
      for (int i = 0; i < 20 && !stopping.load(); ++i) std::this_thread::sleep_for(milliseconds(100));
    }
  });

  int sig = 0;
  sigwait(&stop_signals, &sig);
  LogInfo("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  stopping = true;
  health->SetServingStatus(false);
  health_loop.join();
  server->Shutdown(std::chrono::system_clock::now() + milliseconds(config->shutdown_grace_ms));
  for (auto& f : ctx.on_shutdown) f();
  if (consumer) consumer->Stop();
  if (relay) relay->Stop();
  if (auto s = (*producer)->Flush(milliseconds(config->shutdown_grace_ms)); !s.ok()) {
    // Whatever is unflushed is still in the outbox (entries leave it only once delivered).
    LogWarn("producer flush incomplete", {{"error", std::string(s.message())}});
  }
  LogInfo("stopped");
  return 0;
}

}  // namespace hotline

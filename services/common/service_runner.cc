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
  auto grpc_credentials = ServerCredentialsFromEnv(EnvReader());  // TLS unless explicitly plain
  if (!grpc_credentials.ok()) return ConfigError(spec.name, grpc_credentials.status());
  InitLogging(spec.name, config->instance_id, ParseLogLevel(config->log_level));

  auto metrics = Metrics::Start(spec.name, config->metrics_addr);
  if (!metrics.ok()) return ConfigError(spec.name, metrics.status());

  RedisClient redis(*endpoint, milliseconds(config->redis_timeout_ms),
                    static_cast<size_t>(config->redis_pool_size));
  // Readiness asks on a connection of its own with a short deadline, so a frozen Redis shows
  // at once instead of queueing behind the handlers' round trips.
  RedisClient ready_redis(*endpoint, milliseconds(config->ready_timeout_ms), 1);
  KafkaProducerOptions popts;
  popts.brokers = config->kafka_brokers;
  popts.client_id = absl::StrCat("hotline-", spec.name, "-", config->instance_id);
  auto producer = KafkaProducer::Create(popts);
  if (!producer.ok()) return ConfigError(spec.name, producer.status());

  Outbox outbox(&redis, spec.name + ":outbox", static_cast<size_t>(config->outbox_max_event_bytes));
  OutboxMonitor outbox_monitor(&ready_redis, outbox.key());
  IdempotentApplier applier(&redis, spec.name);
  {
    Metrics* m = metrics->get();
    applier.on_stale = [m](const v1::EventEnvelope&) { m->CountConsumed("", "stale"); };
  }
  std::unique_ptr<OutboxRelay> relay;
  if (spec.publishes) {
    OutboxRelayOptions ropts;
    ropts.key = outbox.key();
    ropts.owner = config->instance_id + ":" + std::to_string(getpid());
    relay = std::make_unique<OutboxRelay>(&redis, producer->get(), ropts);
    Metrics* m = metrics->get();
    relay->on_pass = [m](int delivered, int failed) { m->CountOutbox(delivered, failed); };
    relay->on_dead_lettered = [m](int n) { m->CountDeadLettered(n); };
    OutboxRelay* r = relay.get();
    outbox.SetOnCommit([r] { r->Wake(); });
  }

  auto auth = Authenticator::FromEnv(EnvReader());
  if (!auth.ok()) return ConfigError(spec.name, auth.status());
  if ((*auth)->disabled()) {
    LogWarn(
        "AUTHENTICATION DISABLED (HOTLINE_AUTH_DISABLED=1): every caller is treated as a "
        "supervisor. Development only.");
  }
  RpcOptions rpc_options;
  rpc_options.threads = static_cast<size_t>(config->rpc_threads);
  rpc_options.queue_capacity = static_cast<size_t>(config->rpc_queue);
  auto rpc = std::make_unique<RpcCore>(auth->get(), (*metrics)->registry(), rpc_options);

  ServiceContext ctx;
  ctx.config = *config;
  ctx.auth = auth->get();
  ctx.rpc = rpc.get();
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
  builder.AddListeningPort(config->grpc_addr, *grpc_credentials, &grpc_port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config->grpc_max_message_bytes));
  for (auto& svc : ctx.grpc_services) builder.RegisterService(svc.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || grpc_port == 0) {
    return ConfigError(spec.name, absl::UnavailableError(absl::StrCat(
                                      "HOTLINE_GRPC_ADDR: cannot listen on ", config->grpc_addr)));
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(false);  // until the first readiness check passes

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
    copts.fetch_wait_max_ms = static_cast<int>(config->kafka_fetch_wait_ms);
    copts.max_attempts = static_cast<int>(config->consumer_max_attempts);
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

  LogInfo("service started", {{"grpc_port", std::to_string(grpc_port)},
                              {"metrics_port", std::to_string((*metrics)->port())},
                              {"redis", absl::StrCat(endpoint->host, ":", endpoint->port)},
                              {"kafka", config->kafka_brokers},
                              {"consumes", absl::StrJoin(spec.consumes, ",")}});

  std::atomic<bool> stopping{false};
  auto nap = [&stopping](milliseconds d) {
    for (auto until = std::chrono::steady_clock::now() + d;
         !stopping.load() && std::chrono::steady_clock::now() < until;) {
      std::this_thread::sleep_for(milliseconds(50));
    }
  };
  // Readiness, every 250 ms: Redis answers on its own connection, and the outbox has room.
  std::thread ready_loop([&] {
    bool last = false;
    bool first = true;
    while (!stopping.load()) {
      absl::Status redis_ok = ready_redis.Ping();
      absl::Status room = absl::OkStatus();
      if (redis_ok.ok() && spec.publishes) {
        auto backlog = outbox_monitor.Sample();
        if (backlog.ok()) {
          (*metrics)->SetOutboxPending(backlog->pending);
          (*metrics)->SetOutboxOldestAge(backlog->oldest_age_seconds);
          if (backlog->pending >= config->outbox_max_entries) {
            room = absl::ResourceExhaustedError(
                absl::StrCat("outbox full (", backlog->pending,
                             " events waiting for Kafka, HOTLINE_OUTBOX_MAX_ENTRIES=",
                             config->outbox_max_entries, ")"));
          }
        } else {
          redis_ok = backlog.status();
        }
      }
      (*metrics)->SetDependencyUp("redis", redis_ok.ok());
      const bool ok = redis_ok.ok() && room.ok();
      if (stopping.load()) break;
      std::string why = !redis_ok.ok() ? absl::StrCat("redis: ", redis_ok.message())
                        : !room.ok()   ? std::string(room.message())
                                       : "";
      rpc->SetReady(ok, why);
      (*metrics)->SetReady(ok);
      health->SetServingStatus(ok);
      if (first || ok != last) {
        LogInfo(ok ? "health: SERVING" : "health: NOT_SERVING", {{"reason", ok ? "ready" : why}});
      }
      first = false;
      last = ok;
      nap(milliseconds(250));
    }
  });
  // Kafka is watched apart: a metadata request can take seconds, and the broker being away is
  // what the outbox is for, so it is reported (hotline_dependency_up) but does not gate calls.
  std::thread kafka_loop([&] {
    bool last = true;
    while (!stopping.load()) {
      absl::Status kafka_ok = (*producer)->CheckBrokers(milliseconds(1500));
      (*metrics)->SetDependencyUp("kafka", kafka_ok.ok());
      if (kafka_ok.ok() != last) {
        LogInfo(kafka_ok.ok() ? "kafka reachable" : "kafka unreachable; events wait in the outbox",
                {{"kafka", kafka_ok.ok() ? "ok" : std::string(kafka_ok.message())}});
      }
      last = kafka_ok.ok();
      nap(milliseconds(2000));
    }
  });

  int sig = 0;
  sigwait(&stop_signals, &sig);
  LogInfo("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  stopping = true;
  health->SetServingStatus(false);
  rpc->SetReady(false, "shutting down");
  ready_loop.join();
  kafka_loop.join();
  server->Shutdown(std::chrono::system_clock::now() + milliseconds(config->shutdown_grace_ms));
  rpc.reset();  // runs what the workers still hold, then joins them
  for (auto& f : ctx.on_shutdown) f();
  if (consumer) consumer->Stop();
  if (relay) relay->Stop();
  if (auto s = (*producer)->Flush(milliseconds(config->shutdown_grace_ms)); !s.ok()) {
    // Whatever is unflushed is still in the outbox (entries leave it only once delivered).
    LogWarn("producer flush incomplete", {{"error", std::string(s.message())}});
  }
  while (!ctx.parts.empty()) ctx.parts.pop_back();  // newest first: a part may use an older one
  LogInfo("stopped");
  return 0;
}

}  // namespace hotline

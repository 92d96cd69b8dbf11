#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/common/auth.h"
#include "services/common/config.h"
#include "services/common/idempotent.h"
#include "services/common/kafka_consumer.h"
#include "services/common/metrics.h"
#include "services/common/outbox.h"
#include "services/common/redis_client.h"
#include "services/common/rpc.h"

namespace hotline {

// What a service's setup function gets to wire itself: its own Redis, its outbox, its metrics
// registry. It registers gRPC services and, if it consumes, the event handler.
struct ServiceContext {
  CommonConfig config;
  RedisClient* redis = nullptr;
  Metrics* metrics = nullptr;
  Outbox* outbox = nullptr;              // null for services that publish nothing
  IdempotentApplier* applier = nullptr;  // records applied event ids in this service's Redis
  const Authenticator* auth = nullptr;   // who is calling (HOTLINE_AUTH_TOKENS_FILE)
  RpcCore* rpc = nullptr;                // the one call helper every gRPC handler goes through
  std::vector<std::unique_ptr<grpc::Service>> grpc_services;
  EventHandler handler;  // required when the spec consumes topics
  // Consumer-group rebalance hooks (state kept per partition loads and unloads here).
  std::function<void(const TopicPartitionList&)> on_assigned;
  std::function<void(const TopicPartitionList&)> on_revoked;
  // Run after the gRPC server drained, before the consumer closes (e.g. stop an HTTP server).
  std::vector<std::function<void()>> on_shutdown;

  // The service's own parts (stores, engines, caches): RunService keeps them alive until the
  // gRPC server, the consumer and the relay have stopped, then destroys them newest first.
  template <typename T>
  T* Own(std::unique_ptr<T> part) {
    T* p = part.get();
    parts.push_back(std::shared_ptr<void>(std::move(part)));
    return p;
  }
  std::vector<std::shared_ptr<void>> parts;
};

struct ServiceSpec {
  std::string name;                   // "intake", "ivr_routing", ...
  std::vector<std::string> consumes;  // topics; empty: no consumer group
  bool publishes = true;              // runs the outbox relay
  std::function<absl::Status(ServiceContext&)> setup;
};

// The whole life of a service process (DESIGN.md house style 5–7): typed config from the
// environment (a bad value stops start-up, exit 2, naming the variable), JSON logs, /metrics,
// Redis (a pool, plus a connection of its own for readiness), Kafka producer + outbox relay,
// consumer group, gRPC with health and reflection, and a readiness loop: ready while Redis
// answers a PING within HOTLINE_READY_TIMEOUT_MS and the outbox has room (Kafka being away does
// not make a service unready: its outbox holds the events). On SIGTERM/SIGINT: NOT_SERVING →
// Server::Shutdown(grace) → handler workers drained → consumer close → relay stop → producer
// flush → the service's parts destroyed → 0.
int RunService(const ServiceSpec& spec);

}  // namespace hotline

#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}

namespace hotline {

// The Prometheus registry and /metrics endpoint of one service, plus the series every service
// exports. Families are created once here; services add theirs to registry().
class Metrics {
 public:
  // Serves /metrics on `addr` (host:port). Fails when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<Metrics>> Start(const std::string& service,
                                                        const std::string& addr);
  ~Metrics();

  prometheus::Registry& registry() { return *registry_; }
  // Bound port (useful when addr asked for port 0).
  int port() const { return port_; }

  // hotline_events_consumed_total{topic,outcome}
  void CountConsumed(const std::string& topic, const std::string& outcome);
  // hotline_outbox_published_total / hotline_outbox_failed_total / hotline_outbox_pending
  void CountOutbox(int delivered, int failed);
  void SetOutboxPending(int64_t pending);
  // hotline_outbox_oldest_age_seconds: sampled from the list itself, not from the relay.
  void SetOutboxOldestAge(double seconds);
  // hotline_ready: what the gRPC health service says.
  void SetReady(bool ready);
  // hotline_dependency_up{dependency="redis"|"kafka"}
  void SetDependencyUp(const std::string& dependency, bool up);
  void CountDeadLettered(int n = 1);

 private:
  Metrics() = default;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
  prometheus::Family<prometheus::Counter>* consumed_ = nullptr;
  prometheus::Counter* published_ = nullptr;
  prometheus::Counter* failed_ = nullptr;
  prometheus::Counter* dead_lettered_ = nullptr;
  prometheus::Gauge* pending_ = nullptr;
  prometheus::Gauge* oldest_age_ = nullptr;
  prometheus::Gauge* ready_ = nullptr;
  prometheus::Family<prometheus::Gauge>* dependency_up_ = nullptr;
};

}  // namespace hotline

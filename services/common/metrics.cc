#include "services/common/metrics.h"

#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"

#ifndef HOTLINE_VERSION
#define HOTLINE_VERSION "dev"
#endif
#ifndef HOTLINE_GIT_COMMIT
#define HOTLINE_GIT_COMMIT "unknown"
#endif

namespace hotline {

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Start(const std::string& service,
                                                        const std::string& addr) {
  std::unique_ptr<Metrics> m(new Metrics());
  m->registry_ = std::make_shared<prometheus::Registry>();
  try {  // prometheus-cpp (civetweb) reports a port it cannot bind by throwing
    m->exposer_ = std::make_unique<prometheus::Exposer>(addr, 2 /*threads*/);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("HOTLINE_METRICS_ADDR: cannot serve on ", addr, ": ", e.what()));
  }
  m->exposer_->RegisterCollectable(m->registry_);
  auto ports = m->exposer_->GetListeningPorts();
  m->port_ = ports.empty() ? 0 : ports.front();

  auto& r = *m->registry_;
  prometheus::BuildGauge()
      .Name(absl::StrCat("hotline_", service, "_build_info"))
      .Help("Build of this service; the value is always 1")
      .Register(r)
      .Add({{"version", HOTLINE_VERSION}, {"commit", HOTLINE_GIT_COMMIT}})
      .Set(1);
  m->consumed_ = &prometheus::BuildCounter()
                      .Name("hotline_events_consumed_total")
                      .Help(
                          "Kafka events handled, by topic and outcome "
                          "(applied, dead_lettered, retried)")
                      .Register(r);
  auto& outbox = prometheus::BuildCounter()
                     .Name("hotline_outbox_events_total")
                     .Help("Outbox entries the relay tried to publish, by result")
                     .Register(r);
  m->published_ = &outbox.Add({{"result", "delivered"}});
  m->failed_ = &outbox.Add({{"result", "failed"}});
  m->pending_ = &prometheus::BuildGauge()
                     .Name("hotline_outbox_pending")
                     .Help("Events waiting in the transactional outbox")
                     .Register(r)
                     .Add({});
  m->oldest_age_ = &prometheus::BuildGauge()
                        .Name("hotline_outbox_oldest_age_seconds")
                        .Help("Age of the oldest event waiting in the outbox (0 when empty)")
                        .Register(r)
                        .Add({});
  m->ready_ = &prometheus::BuildGauge()
                   .Name("hotline_ready")
                   .Help("1 while the service is ready to do its job (what gRPC health reports)")
                   .Register(r)
                   .Add({});
  m->dead_lettered_ = &prometheus::BuildCounter()
                           .Name("hotline_deadletter_events_total")
                           .Help("Messages this service sent to hotline.deadletter.v1")
                           .Register(r)
                           .Add({});
  m->dependency_up_ = &prometheus::BuildGauge()
                           .Name("hotline_dependency_up")
                           .Help("1 when the last health check reached the dependency")
                           .Register(r);
  return m;
}

Metrics::~Metrics() = default;

void Metrics::CountConsumed(const std::string& topic, const std::string& outcome) {
  // Stale events are counted without a topic: the applier does not know it.
  consumed_->Add({{"topic", topic}, {"outcome", outcome}}).Increment();
  if (outcome == "dead_lettered") dead_lettered_->Increment();
}

void Metrics::CountOutbox(int delivered, int failed) {
  published_->Increment(delivered);
  failed_->Increment(failed);
}

void Metrics::SetOutboxPending(int64_t pending) { pending_->Set(static_cast<double>(pending)); }

void Metrics::SetOutboxOldestAge(double seconds) { oldest_age_->Set(seconds); }

void Metrics::SetReady(bool ready) { ready_->Set(ready ? 1 : 0); }

void Metrics::SetDependencyUp(const std::string& dependency, bool up) {
  dependency_up_->Add({{"dependency", dependency}}).Set(up ? 1 : 0);
}

void Metrics::CountDeadLettered(int n) { dead_lettered_->Increment(n); }

}  // namespace hotline

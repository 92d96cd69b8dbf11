// Benchmark (not a test) of sla_timer's clocks. Three parts, all measured in one run:
//  1. The timing wheel against std::priority_queue (lazy cancel) and std::multimap baselines:
//     insert, cancel half, expire the rest, for 1M and 10M clocks due over 24 h; time and the
//     memory each structure adds (peak RSS of a child process that builds only it).
//  2. Firing lag (due → warning/breach committed in Redis with its outbox event) when 100k clocks
//     fall due in the same minute, through the real SlaEngine and a real redis-server.
//  3. Restart recovery: time to load 1M clocks of a partition from Redis into the wheel.
//
//   sla_bench [--sizes 1000000,10000000] [--lag-clocks 100000] [--recovery-clocks 1000000]
#include <prometheus/registry.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <queue>
#include <random>
#include <thread>

#include "absl/strings/str_split.h"
#include "services/common/events.h"
#include "services/common/idempotent.h"
#include "services/common/outbox.h"
#include "services/common/redis_client.h"
#include "services/sla_timer/sla_engine.h"
#include "services/sla_timer/timing_wheel.h"
#include "tests/support/processes.h"

using namespace hotline;
using namespace hotline::sla;
using Clock = std::chrono::steady_clock;

namespace {

double Secs(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

long MaxRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

struct Phase {
  double insert = 0, cancel = 0, expire = 0;
  long rss_kb = 0;
  size_t fired = 0;
};

// Runs `body` in a child so each structure's memory is measured alone.
Phase InChild(const std::function<Phase()>& body) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    long base = MaxRssKb();
    Phase p = body();
    p.rss_kb = MaxRssKb() - base;
    (void)!write(fds[1], &p, sizeof p);
    _exit(0);
  }
  close(fds[1]);
  Phase p;
  (void)!read(fds[0], &p, sizeof p);
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return p;
}

std::vector<int64_t> Expiries(size_t n, int64_t start) {
  std::mt19937_64 rng(42);
  std::vector<int64_t> e(n);
  for (auto& x : e) x = start + static_cast<int64_t>(rng() % (24LL * 3600 * 1000));
  return e;
}

Phase Wheel(size_t n) {
  const int64_t start = 1'800'000'000'000;
  auto exp = Expiries(n, start);
  Phase p;
  TimingWheel w(start, 10);
  std::vector<TimingWheel::Handle> h(n);
  auto t = Clock::now();
  for (size_t i = 0; i < n; ++i) h[i] = w.Add(exp[i], static_cast<uint32_t>(i));
  p.insert = Secs(t);
  t = Clock::now();
  for (size_t i = 0; i < n; i += 2) w.Cancel(h[i]);
  p.cancel = Secs(t);
  t = Clock::now();
  w.Advance(start + 24LL * 3600 * 1000 + 10, [&](uint32_t, int64_t) { ++p.fired; });
  p.expire = Secs(t);
  return p;
}

Phase PriorityQueue(size_t n) {
  const int64_t start = 1'800'000'000'000;
  auto exp = Expiries(n, start);
  Phase p;
  using E = std::pair<int64_t, uint64_t>;
  std::priority_queue<E, std::vector<E>, std::greater<E>> q;
  std::vector<bool> cancelled(n, false);  // no cancel in a heap: tombstones
  auto t = Clock::now();
  for (size_t i = 0; i < n; ++i) q.emplace(exp[i], i);
  p.insert = Secs(t);
  t = Clock::now();
  for (size_t i = 0; i < n; i += 2) cancelled[i] = true;
  p.cancel = Secs(t);
  t = Clock::now();
  while (!q.empty()) {
    if (!cancelled[q.top().second]) ++p.fired;
    q.pop();
  }
  p.expire = Secs(t);
  return p;
}

Phase MultiMap(size_t n) {
  const int64_t start = 1'800'000'000'000;
  auto exp = Expiries(n, start);
  Phase p;
  std::multimap<int64_t, uint64_t> m;
  std::vector<std::multimap<int64_t, uint64_t>::iterator> it(n);
  auto t = Clock::now();
  for (size_t i = 0; i < n; ++i) it[i] = m.emplace(exp[i], i);
  p.insert = Secs(t);
  t = Clock::now();
  for (size_t i = 0; i < n; i += 2) m.erase(it[i]);
  p.cancel = Secs(t);
  t = Clock::now();
  while (!m.empty()) {
    ++p.fired;
    m.erase(m.begin());
  }
  p.expire = Secs(t);
  return p;
}

struct Engine {
  testing::TempDir dir;
  testing::RedisServer redis;
  RedisClient client{RedisEndpoint{"127.0.0.1", redis.port(), 0, ""}};
  Outbox outbox{&client, "sla_timer:outbox"};
  IdempotentApplier applier{&client, "sla_timer"};
  prometheus::Registry registry;
  SlaMetrics metrics{registry};
  std::unique_ptr<PolicyTable> policies;
  std::unique_ptr<SlaEngine> engine;

  explicit Engine(std::function<void(double)> observe = nullptr) {
    Policy p;
    p.name = "bench";
    p.type = p.urgency = "*";
    p.sign_for = absl::Hours(24);
    p.completion = absl::Seconds(60);
    p.working_time = false;
    policies = PolicyTable::FromPolicies({p});
    SlaOptions o;
    o.calendars.emplace("cn-mainland", WorkCalendar::AlwaysOpen("cn-mainland"));
    o.observe_lag = std::move(observe);
    engine = std::make_unique<SlaEngine>(&client, &outbox, &applier, policies.get(), o, &metrics);
    engine->OnAssigned({{"hotline.tickets.v1", 0}});
  }
};

void FiringLag(size_t clocks) {
  std::mutex mu;
  std::vector<double> lags;
  Engine e([&](double s) {
    std::lock_guard<std::mutex> l(mu);
    lags.push_back(s);
  });
  // Dispatched over the last minute with a 60 s completion budget: all fall due in the next one.
  const absl::Time now = absl::Now() + absl::Seconds(clocks / 2000 + 10);  // after the set-up below
  auto t = Clock::now();
  MessageMeta meta;
  meta.topic = "hotline.tickets.v1";
  for (size_t i = 0; i < clocks; ++i) {
    std::string id = NewUuid();
    auto ev = NewEnvelope("dispatch", id, 1);
    auto* d = ev.mutable_ticket_dispatched();
    d->set_ticket_id(id);
    d->set_department_id("d-" + std::to_string(i % 20));
    d->set_type(v1::TICKET_TYPE_COMPLAINT);
    absl::Time at = now - absl::Seconds(60) + absl::Seconds(60) * (static_cast<double>(i) / clocks);
    d->mutable_dispatched_at()->set_seconds(absl::ToUnixSeconds(at));
    d->mutable_dispatched_at()->set_nanos(static_cast<int>(absl::ToUnixNanos(at) % 1000000000));
    if (!e.engine->HandleEvent(ev, meta).ok()) std::abort();
  }
  double setup = Secs(t);
  e.engine->Start();
  // Wait for everything to fire.
  while (true) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (lags.size() >= clocks) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  e.engine->Stop();
  std::sort(lags.begin(), lags.end());
  std::printf(
      "\nFiring lag, %zu clocks due within one minute (set-up %.1f s through HandleEvent):\n",
      clocks, setup);
  std::printf(
      "| fired | p50 ms | p99 ms | max ms |\n|---|---|---|---|\n| %zu | %.1f | %.1f | %.1f |\n",
      lags.size(), lags[lags.size() / 2] * 1000, lags[lags.size() * 99 / 100] * 1000,
      lags.back() * 1000);
}

void Recovery(size_t clocks) {
  Engine e;
  // The due index as a crash leaves it: 1M clocks of partition 0.
  const int64_t due = absl::ToUnixMillis(absl::Now()) + 24LL * 3600 * 1000;
  std::vector<RedisCommand> batch;
  for (size_t i = 0; i < clocks;) {
    RedisCommand z = {"ZADD", "sla:due:0"};
    for (size_t k = 0; k < 1000 && i < clocks; ++k, ++i) {
      z.push_back(std::to_string(due + static_cast<int64_t>(i)));
      z.push_back("ticket-" + std::to_string(i) + ":2");
    }
    batch.push_back(std::move(z));
    if (batch.size() == 50) {
      if (!e.client.Pipeline(batch).ok()) std::abort();
      batch.clear();
    }
  }
  if (!batch.empty() && !e.client.Pipeline(batch).ok()) std::abort();
  e.engine->OnRevoked({{"hotline.tickets.v1", 0}});
  long before = MaxRssKb();
  auto t = Clock::now();
  e.engine->OnAssigned({{"hotline.tickets.v1", 0}});
  double secs = Secs(t);
  std::printf(
      "\nRestart recovery: %zu clocks of a partition loaded from Redis into the wheel in %.2f s "
      "(%.0f clocks/s); scheduled %zu; process grew %.0f MB\n",
      clocks, secs, clocks / secs, e.engine->scheduled(), (MaxRssKb() - before) / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes = {1'000'000, 10'000'000};
  size_t lag_clocks = 100'000, recovery = 1'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--sizes") {
      sizes.clear();
      for (auto s : absl::StrSplit(argv[i + 1], ',')) sizes.push_back(std::stoull(std::string(s)));
    } else if (a == "--lag-clocks") {
      lag_clocks = std::stoull(argv[i + 1]);
    } else if (a == "--recovery-clocks") {
      recovery = std::stoull(argv[i + 1]);
    }
  }
  std::printf("Timers due over 24 h; cancel every second one; expire the rest (%u cores).\n\n",
              std::thread::hardware_concurrency());
  std::printf(
      "| clocks | structure | insert M/s | cancel M/s | expire M/s | memory MB | bytes/clock |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (size_t n : sizes) {
    if (n == 0) continue;
    for (auto [name, fn] : {std::make_pair("timing wheel", &Wheel),
                            std::make_pair("std::priority_queue", &PriorityQueue),
                            std::make_pair("std::multimap", &MultiMap)}) {
      Phase p = InChild([&] { return fn(n); });
      std::printf("| %zu | %s | %.1f | %.1f | %.1f | %.0f | %.0f |\n", n, name, n / p.insert / 1e6,
                  n / 2 / p.cancel / 1e6, p.fired / p.expire / 1e6, p.rss_kb / 1024.0,
                  p.rss_kb * 1024.0 / n);
      std::fflush(stdout);
    }
  }
  if (lag_clocks) FiringLag(lag_clocks);
  if (recovery) Recovery(recovery);
  return 0;
}

#include "services/common/outbox.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/log.h"

namespace hotline {
namespace {

// Take the lease if free, extend it if ours.
constexpr char kLeaseScript[] = R"lua(
local v = redis.call('GET', KEYS[1])
if v == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
)lua";

// Pop the delivered entries, but only while the head still is what we delivered: if the lease
// moved and another relay already removed them, nothing else is popped by mistake.
constexpr char kTrimScript[] = R"lua(
local n = 0
for i = 1, #ARGV do
  if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[i] then break end
  redis.call('LPOP', KEYS[1])
  n = n + 1
end
return n
)lua";

}  // namespace

RedisCommand Outbox::AppendCommand(const std::vector<v1::EventEnvelope>& events) const {
  RedisCommand cmd = {"RPUSH", key_};
  for (const auto& e : events) cmd.push_back(e.SerializeAsString());
  return cmd;
}

absl::StatusOr<std::vector<RedisReply>> Outbox::Commit(
    const std::vector<RedisCommand>& state, const std::vector<v1::EventEnvelope>& events) {
  std::vector<RedisCommand> cmds = state;
  if (!events.empty()) cmds.push_back(AppendCommand(events));
  auto r = redis_->Transaction(cmds);
  if (!r.ok()) return r.status();
  if (!events.empty()) r->pop_back();
  NotifyCommitted();
  return r;
}

OutboxRelay::OutboxRelay(RedisClient* redis, MessagePublisher* publisher,
                         OutboxRelayOptions opts)
    : redis_(redis), publisher_(publisher), opts_(std::move(opts)) {}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void OutboxRelay::Stop() {
  stop_ = true;
  Wake();
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

absl::StatusOr<int64_t> OutboxRelay::Pending() {
  auto r = redis_->Command({"LLEN", opts_.key});
  if (!r.ok()) return r.status();
  return r->integer;
}

absl::StatusOr<int> OutboxRelay::RunOnce() {
  auto lease = redis_->Command({"EVAL", kLeaseScript, "1", opts_.key + ":lease", opts_.owner,
                                std::to_string(opts_.lock_ttl.count())});
  if (!lease.ok()) return lease.status();
  if (lease->integer != 1) return absl::FailedPreconditionError("outbox lease held elsewhere");

  auto range = redis_->Command({"LRANGE", opts_.key, "0", std::to_string(opts_.batch - 1)});
  if (!range.ok()) return range.status();
  const auto& entries = range->elements;
  if (entries.empty()) return 0;

  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    size_t reported = 0;
    std::vector<std::optional<absl::Status>> results;
  };
  auto shared = std::make_shared<Shared>();
  shared->results.resize(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& bytes = entries[i].str;
    v1::EventEnvelope e;
    std::string topic;
    std::vector<KafkaHeader> headers;
    if (e.ParseFromString(bytes) && !(topic = TopicFor(e)).empty()) {
      headers.push_back({"event_id", e.event_id()});
      if (!e.traceparent().empty()) headers.push_back({"traceparent", e.traceparent()});
    } else {
      // Only a bug writes such an entry; park it where people look rather than block the rest.
      topic = kDeadLetterTopic;
      headers.push_back({"hotline-dlq-reason", "undecodable outbox entry in " + opts_.key});
    }
    publisher_->Publish(topic, e.key(), bytes, headers, [shared, i](absl::Status s) {
      std::lock_guard<std::mutex> lock(shared->mu);
      shared->results[i] = s;
      ++shared->reported;
      shared->cv.notify_all();
    });
  }
  // Remove the delivered prefix only: a failed entry and everything after it stay, and are
  // published again on the next pass (consumers drop the duplicates by event id).
  RedisCommand trim = {"EVAL", kTrimScript, "1", opts_.key};
  absl::Status first_failure;
  {
    std::unique_lock<std::mutex> lock(shared->mu);
    shared->cv.wait_for(lock, opts_.delivery_wait,
                        [&] { return shared->reported == entries.size(); });
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto& r = shared->results[i];
      if (!r.has_value() || !r->ok()) {
        first_failure = r.has_value() ? *r : absl::DeadlineExceededError("no delivery report");
        break;
      }
      trim.push_back(entries[i].str);
    }
  }
  const int delivered = static_cast<int>(trim.size() - 4);
  if (delivered > 0) {
    auto t = redis_->Command(trim);
    if (!t.ok()) return t.status();
  }
  if (on_pass) on_pass(delivered, static_cast<int>(entries.size()) - delivered);
  if (!first_failure.ok()) return absl::UnavailableError(first_failure.message());
  return delivered;
}

void OutboxRelay::Loop() {
  auto backoff = std::chrono::milliseconds(0);
  while (!stop_.load()) {
    auto n = RunOnce();
    if (on_pending) {
      if (auto p = Pending(); p.ok()) on_pending(*p);
    }
    std::chrono::milliseconds wait = opts_.idle_poll;
    if (!n.ok()) {
      if (!absl::IsFailedPrecondition(n.status())) {
        LogWarn("outbox relay pass failed", {{"outbox", opts_.key},
                                             {"error", std::string(n.status().message())}});
        backoff = std::min(std::chrono::milliseconds(5000),
                           backoff.count() == 0 ? std::chrono::milliseconds(100) : backoff * 2);
        wait = backoff;
      }
    } else {
      backoff = std::chrono::milliseconds(0);
      if (*n > 0) continue;  // more may be waiting: drain before sleeping
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, wait, [&] { return woken_ || stop_.load(); });
    woken_ = false;
  }
}

}  // namespace hotline

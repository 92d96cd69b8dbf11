#include "services/common/outbox.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/common/events.h"
#include "services/common/lease.h"
#include "services/common/log.h"

namespace hotline {
namespace {

// Remove each settled entry by its exact bytes (an envelope with its own event id, so unique),
// wherever it is: settled entries behind a failed one go too. An entry another relay already
// removed (the lease moved) is simply not found. LREM stops at the first match from the head,
// and settled entries are within the first `batch`, so this stays O(batch) per entry.
constexpr char kRemoveScript[] = R"lua(
local n = 0
for i = 1, #ARGV do n = n + redis.call('LREM', KEYS[1], 1, ARGV[i]) end
return n
)lua";

enum class EntryState { kQueued, kInFlight, kDelivered, kRefused, kFailed };

// Delivery reports arrive on the producer's thread; the pass waits for them on its own.
struct Reports {
  absl::Mutex mu;
  std::deque<std::pair<size_t, absl::Status>> arrived ABSL_GUARDED_BY(mu);
};

}  // namespace

absl::StatusOr<RedisCommand> Outbox::AppendCommand(
    const std::vector<v1::EventEnvelope>& events) const {
  RedisCommand cmd = {"RPUSH", key_};
  for (const auto& e : events) {
    const size_t size = e.ByteSizeLong();
    if (size > max_event_bytes_) {
      return absl::InvalidArgumentError(
          absl::StrCat("event ", PayloadName(e), " for ", e.key(), ": ", size,
                       " bytes, over the outbox limit of ", max_event_bytes_,
                       " bytes (Kafka would refuse it); shorten the request's text fields"));
    }
    cmd.push_back(e.SerializeAsString());
  }
  return cmd;
}

absl::StatusOr<std::vector<RedisReply>> Outbox::Commit(
    const std::vector<RedisCommand>& state, const std::vector<v1::EventEnvelope>& events) {
  std::vector<RedisCommand> cmds = state;
  if (!events.empty()) {
    auto append = AppendCommand(events);
    if (!append.ok()) return append.status();
    cmds.push_back(*std::move(append));
  }
  auto r = redis_->Transaction(cmds);
  if (!r.ok()) return r.status();
  if (!events.empty()) r->pop_back();
  NotifyCommitted();
  return r;
}

absl::StatusOr<OutboxStats> OutboxMonitor::Sample(absl::Time now) const {
  auto r = redis_->Transaction({{"LLEN", key_}, {"LINDEX", key_, "0"}});
  if (!r.ok()) return r.status();
  if (r->size() != 2) return absl::InternalError("outbox sample: unexpected reply");
  OutboxStats stats;
  stats.pending = (*r)[0].integer;
  const RedisReply& head = (*r)[1];
  v1::EventEnvelope e;
  if (!head.IsNil() && e.ParseFromString(head.str) && e.has_occurred_at()) {
    // Clocks of two hosts may disagree a little: never report a negative age.
    absl::Time occurred = absl::FromUnixSeconds(e.occurred_at().seconds()) +
                          absl::Nanoseconds(e.occurred_at().nanos());
    stats.oldest_age_seconds = std::max(0.0, absl::ToDoubleSeconds(now - occurred));
  }
  return stats;
}

OutboxRelay::OutboxRelay(RedisClient* redis, MessagePublisher* publisher, OutboxRelayOptions opts)
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
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

absl::StatusOr<int64_t> OutboxRelay::Pending() {
  auto r = redis_->Command({"LLEN", opts_.key});
  if (!r.ok()) return r.status();
  return r->integer;
}

absl::StatusOr<bool> OutboxRelay::RenewLease() {
  return AcquireOrRenewLease(*redis_, opts_.key + ":lease", opts_.owner, opts_.lock_ttl);
}

absl::StatusOr<int> OutboxRelay::RunOnce() {
  PassResult r = RunPass();
  if (!r.status.ok()) return r.status;
  return r.removed;
}

OutboxRelay::PassResult OutboxRelay::RunPass() {
  auto lease = RenewLease();
  if (!lease.ok()) return {0, lease.status()};
  if (!*lease) return {0, absl::FailedPreconditionError("outbox lease held elsewhere")};

  auto range = redis_->Command({"LRANGE", opts_.key, "0", std::to_string(opts_.batch - 1)});
  if (!range.ok()) return {0, range.status()};
  const auto& entries = range->elements;
  if (entries.empty()) return {0, absl::OkStatus()};

  struct Entry {
    v1::EventEnvelope event;
    std::string topic;
    std::string refusal;  // why it can never be published (set before or after trying)
    EntryState state = EntryState::kQueued;
    std::chrono::steady_clock::time_point sent;
  };
  std::vector<Entry> items(entries.size());
  // One queue per (topic, key): the unit of order (one key → one partition of its topic).
  std::map<std::pair<std::string, std::string>, std::deque<size_t>> chains;
  for (size_t i = 0; i < entries.size(); ++i) {
    Entry& it = items[i];
    if (!it.event.ParseFromString(entries[i].str) || (it.topic = TopicFor(it.event)).empty()) {
      // Only a bug writes such an entry; park it where people look rather than block the rest.
      it.event.Clear();  // a failed parse may leave fields half-set
      it.refusal = "undecodable outbox entry in " + opts_.key;
      it.state = EntryState::kRefused;
      continue;
    }
    chains[{it.topic, it.event.key()}].push_back(i);
  }

  auto reports = std::make_shared<Reports>();
  size_t in_flight = 0;
  auto publish = [&](size_t i) {
    Entry& it = items[i];
    std::vector<KafkaHeader> headers = {{"event_id", it.event.event_id()}};
    if (!it.event.traceparent().empty()) headers.push_back({"traceparent", it.event.traceparent()});
    it.state = EntryState::kInFlight;
    it.sent = std::chrono::steady_clock::now();
    ++in_flight;
    publisher_->Publish(it.topic, it.event.key(), entries[i].str, headers,
                        [reports, i](absl::Status s) {
                          absl::MutexLock lock(&reports->mu);
                          reports->arrived.emplace_back(i, std::move(s));
                        });
  };
  bool leased = true;
  auto next_of = [&](std::deque<size_t>& chain) {
    if (leased && !chain.empty() && !stop_.load()) {
      size_t i = chain.front();
      chain.pop_front();
      publish(i);
    }
  };
  // Which chain an entry belongs to, to publish its successor once it settled.
  auto chain_of = [&](size_t i) -> std::deque<size_t>& {
    return chains[{items[i].topic, items[i].event.key()}];
  };
  for (auto& [k, chain] : chains) next_of(chain);

  absl::Status first_failure;
  int delivered = 0, failed = 0;
  auto renew_at = std::chrono::steady_clock::now() + opts_.lock_ttl / 3;
  std::chrono::steady_clock::time_point stop_seen{};
  while (in_flight > 0) {
    std::deque<std::pair<size_t, absl::Status>> arrived;
    {
      absl::MutexLock lock(&reports->mu);
      auto ready = [&] {
        reports->mu.AssertHeld();
        return !reports->arrived.empty();
      };
      reports->mu.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(100));
      arrived.swap(reports->arrived);
    }
    for (auto& [i, s] : arrived) {
      Entry& it = items[i];
      if (it.state != EntryState::kInFlight) continue;  // given up on already (see below)
      --in_flight;
      if (s.ok()) {
        it.state = EntryState::kDelivered;
        ++delivered;
        next_of(chain_of(i));
      } else if (IsPermanentPublishFailure(s)) {
        it.state = EntryState::kRefused;
        it.refusal = std::string(s.message());
        ++failed;
        next_of(chain_of(i));
      } else {
        // The rest of this key waits for the next pass, behind this entry.
        it.state = EntryState::kFailed;
        ++failed;
        if (first_failure.ok()) first_failure = s;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < items.size(); ++i) {
      Entry& it = items[i];
      if (it.state == EntryState::kInFlight && now - it.sent > opts_.delivery_wait) {
        // No report in time: the producer is stuck. Treat as transient; if the message does
        // arrive after all, the next pass sends it again (consumers drop the duplicate by id).
        it.state = EntryState::kFailed;
        --in_flight;
        ++failed;
        if (first_failure.ok()) first_failure = absl::DeadlineExceededError("no delivery report");
      }
    }
    if (stop_.load()) {
      // Shutting down: give the reports a moment, not the full delivery_wait (35 s with the
      // broker away). What is still unreported stays in the list; if it did arrive, the next
      // owner sends it again and consumers drop the duplicate by event id.
      if (stop_seen == std::chrono::steady_clock::time_point{}) stop_seen = now;
      if (now - stop_seen > std::chrono::milliseconds(2000)) {
        for (auto& it : items) {
          if (it.state == EntryState::kInFlight) it.state = EntryState::kFailed;
        }
        in_flight = 0;
        if (first_failure.ok()) first_failure = absl::CancelledError("relay stopping");
        break;
      }
    }
    if (now >= renew_at && leased) {
      renew_at = now + opts_.lock_ttl / 3;
      auto still = RenewLease();
      // Lost (or cannot tell): publish nothing more; what is in flight still settles below.
      leased = still.ok() && *still;
    }
  }

  // Dead-letter the refused entries, then remove everything settled in one script.
  RedisCommand remove = {"EVAL", kRemoveScript, "1", opts_.key};
  int dead_lettered = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    Entry& it = items[i];
    if (it.state == EntryState::kDelivered) {
      remove.push_back(entries[i].str);
      continue;
    }
    if (it.state != EntryState::kRefused) continue;
    std::vector<KafkaHeader> headers = {
        {"hotline-dlq-reason", it.refusal},
        {"hotline-dlq-outbox", opts_.key},
        {"hotline-dlq-topic", it.topic},
        {"hotline-dlq-event-id", it.event.event_id()},
        {"hotline-dlq-event-type", PayloadName(it.event)},
    };
    if (!it.event.traceparent().empty()) headers.push_back({"traceparent", it.event.traceparent()});
    // If even the dead-letter topic will not take it: the envelope without its payload (id, key,
    // source, version, time, trace), with the type and size in the headers.
    v1::EventEnvelope summary = it.event;
    summary.clear_payload();
    absl::Status s = PublishDeadLetter(publisher_, it.event.key(), entries[i].str,
                                       summary.SerializeAsString(), headers, opts_.delivery_wait);
    if (!s.ok()) {
      // Stays in the list: the next pass refuses and dead-letters it again.
      LogWarn("outbox entry could not be dead-lettered; it stays",
              {{"outbox", opts_.key},
               {"event_id", it.event.event_id()},
               {"error", std::string(s.message())}});
      if (first_failure.ok()) first_failure = s;
      continue;
    }
    LogWarn("outbox entry dead-lettered", {{"outbox", opts_.key},
                                           {"event_id", it.event.event_id()},
                                           {"type", PayloadName(it.event)},
                                           {"bytes", std::to_string(entries[i].str.size())},
                                           {"reason", it.refusal}});
    ++dead_lettered;
    remove.push_back(entries[i].str);
  }
  const int removed = static_cast<int>(remove.size()) - 4;
  if (removed > 0) {
    auto t = redis_->Command(remove);
    // The entries stay and are sent again next pass (consumers drop duplicates by event id).
    if (!t.ok()) return {0, t.status()};
  }
  if (on_pass) on_pass(delivered, failed);
  if (on_dead_lettered && dead_lettered > 0) on_dead_lettered(dead_lettered);
  if (!first_failure.ok()) return {removed, absl::UnavailableError(first_failure.message())};
  return {removed, absl::OkStatus()};
}

void OutboxRelay::Loop() {
  auto backoff = std::chrono::milliseconds(0);
  while (!stop_.load()) {
    PassResult n = RunPass();
    if (on_pending) {
      if (auto p = Pending(); p.ok()) on_pending(*p);
    }
    std::chrono::milliseconds wait = opts_.idle_poll;
    if (!n.status.ok() && !absl::IsFailedPrecondition(n.status)) {
      LogWarn("outbox relay pass failed",
              {{"outbox", opts_.key}, {"error", std::string(n.status.message())}});
    }
    // Progress (even beside a failed entry: other keys flow) means more may be waiting: drain
    // before sleeping. Back off only when a pass removed nothing and failed.
    if (n.removed > 0) {
      backoff = std::chrono::milliseconds(0);
      continue;
    }
    if (!n.status.ok() && !absl::IsFailedPrecondition(n.status)) {
      backoff = std::min(std::chrono::milliseconds(5000),
                         backoff.count() == 0 ? std::chrono::milliseconds(100) : backoff * 2);
      wait = backoff;
    } else {
      backoff = std::chrono::milliseconds(0);
    }
    absl::MutexLock lock(&mu_);
    auto woken_or_stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return woken_ || stop_.load();
    };
    mu_.AwaitWithTimeout(absl::Condition(&woken_or_stopped), absl::FromChrono(wait));
    woken_ = false;
  }
}

}  // namespace hotline

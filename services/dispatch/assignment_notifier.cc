#include "services/dispatch/assignment_notifier.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/dispatch/ticket_repository.h"

namespace hotline::dispatch {
namespace {

// A new stream entry for a department with pending reads makes the next XREAD short, so a
// backlog larger than one batch is not paced by the idle block.
constexpr absl::Duration kBusyBlock = absl::Milliseconds(10);
constexpr size_t kXreadCount = 1000;

}  // namespace

AssignmentNotifier::AssignmentNotifier(std::unique_ptr<RedisClient> redis, Options opts,
                                       DispatchMetrics* metrics)
    : redis_(std::move(redis)), opts_(opts), metrics_(metrics) {
  if (metrics_) metrics_->OpenStreams(0);
  thread_ = std::thread([this] { Run(); });
}

AssignmentNotifier::~AssignmentNotifier() { Stop(); }

void AssignmentNotifier::Stop() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status AssignmentNotifier::Subscribe(const std::string& dept, const std::string& cursor,
                                           std::shared_ptr<AssignmentSink> sink) {
  absl::MutexLock l(&mu_);
  if (stop_) return absl::UnavailableError("dispatch is shutting down");
  if (subs_.size() >= opts_.max_streams) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many open assignment streams on this instance (", opts_.max_streams,
                     ", DISPATCH_MAX_STREAMS); retry later"));
  }
  AssignmentSink* key = sink.get();
  subs_[key] = Sub{dept, cursor, false, true, std::move(sink)};
  if (metrics_) metrics_->OpenStreams(subs_.size());
  return absl::OkStatus();
}

void AssignmentNotifier::Ready(AssignmentSink* sink) {
  absl::MutexLock l(&mu_);
  auto it = subs_.find(sink);
  if (it != subs_.end()) it->second.wants = true;
}

void AssignmentNotifier::Unsubscribe(AssignmentSink* sink) {
  absl::MutexLock l(&mu_);
  subs_.erase(sink);
  if (metrics_) metrics_->OpenStreams(subs_.size());
}

size_t AssignmentNotifier::open_streams() const {
  absl::MutexLock l(&mu_);
  return subs_.size();
}

absl::StatusOr<std::vector<v1::StreamAssignedTicketsResponse>> AssignmentNotifier::Fetch(
    const std::string& dept, std::string* cursor, bool* full) {
  auto r = redis_->Command({"XRANGE", TicketRepository::DepartmentStream(dept),
                            cursor->empty() ? "-" : "(" + *cursor, "+", "COUNT",
                            std::to_string(opts_.batch)});
  if (!r.ok()) return r.status();
  *full = r->elements.size() >= opts_.batch;
  std::vector<std::string> ids;  // entry ids, parallel to gets
  std::vector<RedisCommand> gets;
  for (const auto& entry : r->elements) {
    if (entry.elements.size() != 2) continue;
    *cursor = entry.elements[0].str;
    const auto& fields = entry.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str != "ticket") continue;
      ids.push_back(entry.elements[0].str);
      gets.push_back({"GET", TicketRepository::TicketKey(fields[i + 1].str)});
    }
  }
  std::vector<v1::StreamAssignedTicketsResponse> out;
  if (gets.empty()) return out;
  auto tickets = redis_->Pipeline(gets);
  if (!tickets.ok()) return tickets.status();
  for (size_t i = 0; i < tickets->size(); ++i) {
    const auto& reply = (*tickets)[i];
    if (reply.IsNil()) continue;
    v1::StreamAssignedTicketsResponse msg;
    if (!msg.mutable_ticket()->ParseFromString(reply.str)) continue;
    // Skip tickets that have since left this department (returned, re-dispatched).
    if (msg.ticket().department_id() != dept) continue;
    msg.set_cursor(ids[i]);
    out.push_back(std::move(msg));
  }
  return out;
}

void AssignmentNotifier::Run() {
  bool redis_failing = false;
  while (true) {
    struct Work {
      AssignmentSink* key;
      std::shared_ptr<AssignmentSink> sink;
      std::string dept, cursor;
    };
    std::vector<Work> work;
    std::set<std::string> depts;
    {
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(this, &AssignmentNotifier::HasSubsOrStop));
      if (stop_) return;
      for (const auto& [key, s] : subs_) {
        depts.insert(s.dept);
        if (s.wants && s.dirty) work.push_back({key, s.sink, s.dept, s.cursor});
      }
    }
    // A department seen for the first time: note its newest entry BEFORE reading for its
    // subscribers, so anything added after the read still wakes the XREAD below.
    for (auto it = seen_.begin(); it != seen_.end();)
      it = depts.count(it->first) ? std::next(it) : seen_.erase(it);
    bool failed = false;
    for (const auto& dept : depts) {
      if (seen_.count(dept)) continue;
      auto last = redis_->Command(
          {"XREVRANGE", TicketRepository::DepartmentStream(dept), "+", "-", "COUNT", "1"});
      if (!last.ok()) {
        failed = true;
        break;
      }
      seen_[dept] = !last->elements.empty() && !last->elements[0].elements.empty()
                        ? last->elements[0].elements[0].str
                        : "0-0";
    }
    for (auto& w : work) {
      bool full = false;
      auto batch = Fetch(w.dept, &w.cursor, &full);
      {
        absl::MutexLock l(&mu_);
        auto it = subs_.find(w.key);
        if (it == subs_.end()) continue;  // the call ended meanwhile
        if (!batch.ok()) {
          it->second.wants = false;
        } else {
          it->second.cursor = w.cursor;
          it->second.dirty = full;
          if (!batch->empty()) it->second.wants = false;
        }
      }
      if (!batch.ok()) {
        LogWarn("reading a department's assignments failed; ending its stream",
                {{"department", w.dept}, {"error", std::string(batch.status().message())}});
        w.sink->Fail(batch.status());
      } else if (!batch->empty()) {
        w.sink->Deliver(std::move(*batch));
      }
    }
    bool ready_work = false, pending = false;
    {
      absl::MutexLock l(&mu_);
      for (const auto& [key, s] : subs_) {
        ready_work |= s.wants && s.dirty;
        pending |= s.dirty;
      }
    }
    if (ready_work && !failed) continue;
    RedisCommand xread = {
        "XREAD",
        "COUNT",
        std::to_string(kXreadCount),
        "BLOCK",
        std::to_string(absl::ToInt64Milliseconds(pending ? kBusyBlock : opts_.block)),
        "STREAMS"};
    for (const auto& [dept, id] : seen_) xread.push_back(TicketRepository::DepartmentStream(dept));
    for (const auto& [dept, id] : seen_) xread.push_back(id);
    absl::StatusOr<RedisReply> r = absl::UnavailableError("no department stream known");
    if (!failed && !seen_.empty()) r = redis_->Command(xread);
    if (!r.ok()) {
      if (!redis_failing)
        LogWarn("assignment notifier: Redis unavailable",
                {{"error", std::string(r.status().message())}});
      redis_failing = true;
      absl::MutexLock l(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), opts_.block);
      continue;
    }
    if (redis_failing) LogInfo("assignment notifier: Redis back");
    redis_failing = false;
    // Reply: [[stream key, [[id, fields], ...]], ...], or nil when the block timed out.
    std::set<std::string> grown;
    for (const auto& stream : r->elements) {
      if (stream.elements.size() != 2 || stream.elements[1].elements.empty()) continue;
      std::string dept =
          stream.elements[0].str.substr(sizeof(TicketRepository::kDepartmentStreamPrefix) - 1);
      const auto& entries = stream.elements[1].elements;
      if (!entries.back().elements.empty()) seen_[dept] = entries.back().elements[0].str;
      grown.insert(dept);
    }
    if (grown.empty()) continue;
    absl::MutexLock l(&mu_);
    for (auto& [key, s] : subs_) {
      if (grown.count(s.dept)) s.dirty = true;
    }
  }
}

}  // namespace hotline::dispatch

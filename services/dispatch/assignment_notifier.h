#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "hotline/v1/dispatch.pb.h"
#include "services/common/redis_client.h"
#include "services/dispatch/dispatch_metrics.h"

namespace hotline::dispatch {

// Where one open department stream receives its tickets. Implemented by the gRPC stream.
class AssignmentSink {
 public:
  virtual ~AssignmentSink() = default;
  // The next assignments after the stream's cursor, in order (never empty), on the notifier's
  // thread. Must not block; the sink calls AssignmentNotifier::Ready when it wants more.
  virtual void Deliver(std::vector<v1::StreamAssignedTicketsResponse> batch) = 0;
  // Reading the department's assignments failed: the stream ends with `status` (the client
  // resumes from its last cursor).
  virtual void Fail(const absl::Status& status) = 0;
};

// Feeds every open StreamAssignedTickets call of this dispatch instance from ONE thread: it
// waits in one XREAD BLOCK on the assignment streams of the departments that have open calls
// (on a Redis connection of its own, so the block holds no connection handlers need), and when
// a department's stream grows, reads the new entries after each of its subscribers' cursors and
// hands them over. Calls do no Redis reads and own no thread; their number is capped
// (DISPATCH_MAX_STREAMS), past which Subscribe is RESOURCE_EXHAUSTED at once.
class AssignmentNotifier {
 public:
  struct Options {
    size_t max_streams = 256;
    size_t batch = 100;  // entries read per subscriber per round
    absl::Duration block =
        absl::Milliseconds(100);  // XREAD BLOCK; also how late a new subscriber may be served
  };
  AssignmentNotifier(std::unique_ptr<RedisClient> redis, Options opts,
                     DispatchMetrics* metrics = nullptr);
  ~AssignmentNotifier();  // Stop()
  AssignmentNotifier(const AssignmentNotifier&) = delete;
  AssignmentNotifier& operator=(const AssignmentNotifier&) = delete;

  // Registers a sink for `dept`'s assignments after `cursor` ("" = from the start). Nothing is
  // delivered until the sink calls Ready(). RESOURCE_EXHAUSTED when max_streams are open.
  absl::Status Subscribe(const std::string& dept, const std::string& cursor,
                         std::shared_ptr<AssignmentSink> sink);
  // The sink has written everything delivered so far and wants more.
  void Ready(AssignmentSink* sink);
  // The call is over; nothing more is delivered once this returns... except a batch already
  // being handed over, which the sink must drop.
  void Unsubscribe(AssignmentSink* sink);
  size_t open_streams() const;
  // Stops and joins the thread. Idempotent.
  void Stop();

 private:
  struct Sub {
    std::string dept;
    std::string cursor;  // only the notifier thread changes it after Subscribe
    bool wants = false;  // the sink is idle and asked for more
    bool dirty = true;   // the department's stream may hold entries after the cursor
    std::shared_ptr<AssignmentSink> sink;
  };
  void Run();
  bool HasSubsOrStop() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || !subs_.empty(); }
  // Reads the entries after `cursor` and the tickets they name; advances `cursor`. `full` is
  // set when the batch was full (more may follow).
  absl::StatusOr<std::vector<v1::StreamAssignedTicketsResponse>> Fetch(const std::string& dept,
                                                                       std::string* cursor,
                                                                       bool* full);

  std::unique_ptr<RedisClient> redis_;  // the notifier's own connection, used only by its thread
  const Options opts_;
  DispatchMetrics* metrics_;
  mutable absl::Mutex mu_;
  std::map<AssignmentSink*, Sub> subs_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Per department with subscribers: the newest stream entry the notifier has seen (XREAD's id).
  std::map<std::string, std::string> seen_;  // notifier thread only
  std::thread thread_;
};

}  // namespace hotline::dispatch

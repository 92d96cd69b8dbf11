#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace hotline {

// A fixed pool of worker threads with a bounded queue (DESIGN.md "Threads, limits and health"):
// gRPC's callback threads hand handler work here and never block on Redis themselves. A full
// queue refuses at once, so a saturated service answers RESOURCE_EXHAUSTED instead of queueing
// without bound.
class BoundedExecutor {
 public:
  BoundedExecutor(size_t threads, size_t queue_capacity);
  ~BoundedExecutor();  // runs what is queued, then joins the workers
  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  // False (and `task` is not run) when the queue is full or the executor is stopping.
  bool TrySubmit(std::function<void()> task);
  size_t queued() const;
  size_t busy() const;
  size_t threads() const { return workers_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  void Work();

  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  size_t busy_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace hotline

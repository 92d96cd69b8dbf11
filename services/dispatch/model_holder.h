#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "services/dispatch/classifier.h"

namespace hotline::dispatch {

// The classifier in use, swappable without a restart: a watcher reloads the model file when
// its modification time changes (write the new model beside it and rename it into place). A
// model that fails to load is logged and the old one stays.
class ModelHolder {
 public:
  explicit ModelHolder(std::shared_ptr<const TextClassifier> initial)
      : model_(std::move(initial)) {}
  ~ModelHolder();  // Stop()
  ModelHolder(const ModelHolder&) = delete;
  ModelHolder& operator=(const ModelHolder&) = delete;

  std::shared_ptr<const TextClassifier> Get() const;
  void Set(std::shared_ptr<const TextClassifier> m);
  // Polls `path` every `period`; `on_swap` is told the new version.
  void Watch(const std::string& path, std::chrono::seconds period,
             std::function<void(const std::string& version)> on_swap);
  // One check of the file (what the watcher does each period); true when a new model was loaded.
  bool ReloadIfChanged();
  // Stops and joins the watcher (before what `on_swap` uses goes away). Idempotent.
  void Stop();

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const TextClassifier> model_ ABSL_GUARDED_BY(mu_);
  std::string path_ ABSL_GUARDED_BY(mu_);
  int64_t mtime_ns_ = 0;  // the watcher's (or a caller of ReloadIfChanged's) own
  std::function<void(const std::string&)> on_swap_;  // set before the watcher starts
  std::thread watcher_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
};

int64_t FileMtimeNs(const std::string& path);

}  // namespace hotline::dispatch

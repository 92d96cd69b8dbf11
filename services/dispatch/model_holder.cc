#include "services/dispatch/model_holder.h"

#include <sys/stat.h>

#include "services/common/log.h"

namespace hotline::dispatch {

int64_t FileMtimeNs(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

ModelHolder::~ModelHolder() { Stop(); }

void ModelHolder::Stop() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
}

std::shared_ptr<const TextClassifier> ModelHolder::Get() const {
  absl::MutexLock l(&mu_);
  return model_;
}

void ModelHolder::Set(std::shared_ptr<const TextClassifier> m) {
  absl::MutexLock l(&mu_);
  model_ = std::move(m);
}

bool ModelHolder::ReloadIfChanged() {
  std::string path;
  {
    absl::MutexLock l(&mu_);
    path = path_;
  }
  int64_t mtime = FileMtimeNs(path);
  if (mtime == 0 || mtime == mtime_ns_) return false;
  mtime_ns_ = mtime;
  auto m = TextClassifier::Load(path);
  if (!m.ok()) {
    LogError("model reload failed; keeping the current model",
             {{"error", std::string(m.status().message())}});
    return false;
  }
  std::string version = (*m)->version();
  Set(std::shared_ptr<const TextClassifier>(std::move(*m)));
  LogInfo("classifier model swapped", {{"version", version}, {"path", path}});
  if (on_swap_) on_swap_(version);
  return true;
}

void ModelHolder::Watch(const std::string& path, std::chrono::seconds period,
                        std::function<void(const std::string&)> on_swap) {
  {
    absl::MutexLock l(&mu_);
    path_ = path;
  }
  on_swap_ = std::move(on_swap);
  mtime_ns_ = FileMtimeNs(path);
  watcher_ = std::thread([this, period] {
    const absl::Duration wait = absl::FromChrono(period);
    while (true) {
      {
        absl::MutexLock l(&mu_);
        if (mu_.AwaitWithTimeout(absl::Condition(&stop_), wait)) return;
      }
      ReloadIfChanged();
    }
  });
}

}  // namespace hotline::dispatch

#include "services/dispatch/dispatch_config.h"

namespace hotline::dispatch {

absl::StatusOr<DispatchConfig> LoadDispatchConfig(const EnvReader& env) {
  DispatchConfig c;
  auto model = env.RequiredString("DISPATCH_MODEL");
  if (!model.ok()) return model.status();
  c.model_path = *model;
  auto deps = env.String("DISPATCH_DEPARTMENTS", "deploy/dispatch/departments.tsv");
  if (!deps.ok()) return deps.status();
  c.departments_path = *deps;
  auto matrix = env.String("DISPATCH_RESPONSIBILITY", "deploy/dispatch/responsibility.tsv");
  if (!matrix.ok()) return matrix.status();
  c.responsibility_path = *matrix;
  // 0 = the model's own threshold (chosen for the target precision when it was trained).
  auto th = env.Int("DISPATCH_AUTO_THRESHOLD_PERCENT", 0, 0, 101);
  if (!th.ok()) return th.status();
  c.options.threshold = *th == 0 ? -1 : *th / 100.0;
  auto reload = env.Int("DISPATCH_MODEL_RELOAD_SECONDS", 10, 1, 3600);
  if (!reload.ok()) return reload.status();
  c.model_reload = std::chrono::seconds(*reload);
  auto reopen = env.Int("DISPATCH_REOPEN_SATISFACTION_AT_MOST", 2, 0, 5);
  if (!reopen.ok()) return reopen.status();
  c.options.reopen_satisfaction_at_most = static_cast<int>(*reopen);
  // Every open stream holds a little memory and a share of the one notifier thread's reads.
  auto streams = env.Int("DISPATCH_MAX_STREAMS", 256, 1, 100000);
  if (!streams.ok()) return streams.status();
  c.max_streams = *streams;
  return c;
}

}  // namespace hotline::dispatch

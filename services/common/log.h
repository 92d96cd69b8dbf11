#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace hotline {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using LogFields = std::vector<std::pair<std::string, std::string>>;

// One JSON object per line on stdout (DESIGN.md house style 9). Thread-safe.
// Values are written as given: callers pass personal data only through the Mask* helpers.
void InitLogging(const std::string& service, const std::string& instance, LogLevel min_level);
LogLevel ParseLogLevel(absl::string_view s);  // unknown → kInfo; config validated the value
void Log(LogLevel level, absl::string_view msg, const LogFields& fields = {});
inline void LogDebug(absl::string_view m, const LogFields& f = {}) { Log(LogLevel::kDebug, m, f); }
inline void LogInfo(absl::string_view m, const LogFields& f = {}) { Log(LogLevel::kInfo, m, f); }
inline void LogWarn(absl::string_view m, const LogFields& f = {}) { Log(LogLevel::kWarn, m, f); }
inline void LogError(absl::string_view m, const LogFields& f = {}) { Log(LogLevel::kError, m, f); }

// The W3C traceparent of the request or event this thread is working on: while a ScopedTrace
// lives, every log line of the thread carries it as "trace", so one citizen's request can be
// followed through the services (gRPC metadata → event envelope → Kafka header → consumer).
// A malformed traceparent is dropped, not copied into logs or events.
class ScopedTrace {
 public:
  explicit ScopedTrace(std::string traceparent);
  ~ScopedTrace();
  ScopedTrace(const ScopedTrace&) = delete;
  ScopedTrace& operator=(const ScopedTrace&) = delete;

 private:
  std::string previous_;
};
const std::string& CurrentTrace();
// A W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>", not all-zero ids) or "".
std::string ValidTraceparent(const std::string& header);

// The line Log() would write, without the trailing newline; exposed for tests.
std::string FormatLogLine(absl::string_view ts, LogLevel level, absl::string_view service,
                          absl::string_view instance, absl::string_view msg,
                          const LogFields& fields);
std::string JsonEscape(absl::string_view s);

// 13812341234 → 138****1234; +86 138 1234 1234 → 138****1234; 020-87654321 → 020****4321.
// Short numbers keep only their last two digits. Non-digits are dropped.
std::string MaskPhone(absl::string_view phone);
// 张三丰 → 张**; John Smith → J*********. Works on UTF-8 code points.
std::string MaskName(absl::string_view name);
// Masks every run of 7 or more digits (spaces and dashes inside allowed) in free text,
// so a number a citizen typed into their message never reaches a log line in clear.
std::string RedactPhones(absl::string_view text);

}  // namespace hotline

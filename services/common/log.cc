#include "services/common/log.h"

#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace hotline {
namespace {

struct LogState {
  std::mutex mu;
  std::string service = "hotline";
  std::string instance;
  LogLevel min_level = LogLevel::kInfo;
};

LogState& State() {
  static LogState* s = new LogState();  // never destroyed: logging works during static teardown
  return *s;
}

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

void InitLogging(const std::string& service, const std::string& instance, LogLevel min_level) {
  auto& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  s.service = service;
  s.instance = instance;
  s.min_level = min_level;
}

LogLevel ParseLogLevel(absl::string_view s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "warn") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

std::string JsonEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

namespace {
thread_local std::string current_trace;
}  // namespace

namespace {
bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string ValidTraceparent(const std::string& h) {
  // version "00": 2-32-16-2 hex digits; all-zero trace or span ids are invalid (W3C).
  if (h.size() != 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return "";
  absl::string_view v(h);
  if (!IsLowerHex(v.substr(0, 2)) || !IsLowerHex(v.substr(3, 32)) ||
      !IsLowerHex(v.substr(36, 16)) || !IsLowerHex(v.substr(53, 2))) {
    return "";
  }
  if (v.substr(0, 2) == "ff") return "";
  if (v.substr(3, 32) == std::string(32, '0') || v.substr(36, 16) == std::string(16, '0')) {
    return "";
  }
  return h;
}

ScopedTrace::ScopedTrace(std::string traceparent) : previous_(std::move(current_trace)) {
  current_trace = ValidTraceparent(traceparent);
}
ScopedTrace::~ScopedTrace() { current_trace = std::move(previous_); }
const std::string& CurrentTrace() { return current_trace; }

std::string FormatLogLine(absl::string_view ts, LogLevel level, absl::string_view service,
                          absl::string_view instance, absl::string_view msg,
                          const LogFields& fields) {
  std::string line = absl::StrCat("{\"ts\":\"", ts, "\",\"level\":\"", LevelName(level),
                                  "\",\"service\":\"", JsonEscape(service), "\"");
  if (!instance.empty()) absl::StrAppend(&line, ",\"instance\":\"", JsonEscape(instance), "\"");
  absl::StrAppend(&line, ",\"msg\":\"", JsonEscape(msg), "\"");
  if (!current_trace.empty())
    absl::StrAppend(&line, ",\"trace\":\"", JsonEscape(current_trace), "\"");
  for (const auto& [k, v] : fields) {
    absl::StrAppend(&line, ",\"", JsonEscape(k), "\":\"", JsonEscape(v), "\"");
  }
  line += "}";
  return line;
}

void Log(LogLevel level, absl::string_view msg, const LogFields& fields) {
  auto& s = State();
  std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::lock_guard<std::mutex> lock(s.mu);
  if (level < s.min_level) return;
  std::string line = FormatLogLine(ts, level, s.service, s.instance, msg, fields);
  line += '\n';
  fwrite(line.data(), 1, line.size(), stdout);
  fflush(stdout);
}

std::string MaskPhone(absl::string_view phone) {
  std::string digits;
  for (char c : phone) {
    if (IsDigit(c)) digits += c;
  }
  // Drop the mainland country code so the visible prefix is the carrier/area part.
  if (digits.size() == 13 && digits.rfind("86", 0) == 0) digits = digits.substr(2);
  if (digits.size() >= 8) {
    return absl::StrCat(digits.substr(0, 3), "****", digits.substr(digits.size() - 4));
  }
  if (digits.size() <= 2) return std::string(digits.size(), '*');
  return absl::StrCat(std::string(digits.size() - 2, '*'), digits.substr(digits.size() - 2));
}

std::string MaskName(absl::string_view name) {
  if (name.empty()) return "";
  // Length of the first UTF-8 code point.
  unsigned char c = static_cast<unsigned char>(name[0]);
  size_t first = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 1;
  if (first > name.size()) first = name.size();
  size_t rest = 0;
  for (size_t i = first; i < name.size(); ++i) {
    if ((static_cast<unsigned char>(name[i]) & 0xC0) != 0x80) ++rest;
  }
  return absl::StrCat(name.substr(0, first), std::string(rest, '*'));
}

std::string RedactPhones(absl::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigit(text[i])) {
      out += text[i++];
      continue;
    }
    // Extend over digits and single separators between digits.
    size_t j = i;
    size_t ndigits = 0;
    while (j < text.size()) {
      if (IsDigit(text[j])) {
        ++ndigits;
        ++j;
      } else if ((text[j] == ' ' || text[j] == '-') && j + 1 < text.size() &&
                 IsDigit(text[j + 1])) {
        ++j;
      } else {
        break;
      }
    }
    absl::string_view run = text.substr(i, j - i);
    out += ndigits >= 7 ? MaskPhone(run) : std::string(run);
    i = j;
  }
  return out;
}

}  // namespace hotline

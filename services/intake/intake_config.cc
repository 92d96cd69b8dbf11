#include "services/intake/intake_config.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace hotline::intake {

absl::StatusOr<IntakeConfig> LoadIntakeConfig(const EnvReader& env) {
  IntakeConfig c;
  auto city = env.String("INTAKE_CITY_CODE", "HL");
  if (!city.ok()) return city.status();
  if (city->empty() || city->size() > 6 ||
      !std::all_of(city->begin(), city->end(), [](char ch) { return absl::ascii_isupper(ch); })) {
    return absl::InvalidArgumentError(
        absl::StrCat("INTAKE_CITY_CODE: '", *city, "' must be 1 to 6 upper-case letters"));
  }
  c.core.city_code = *city;
  auto offset = env.Int("HOTLINE_UTC_OFFSET_MINUTES", 480, -720, 840);
  if (!offset.ok()) return offset.status();
  c.core.zone = absl::FixedTimeZone(static_cast<int>(*offset) * 60);
  auto key = env.String("INTAKE_PSEUDONYM_KEY", "");
  if (!key.ok()) return key.status();
  if (key->empty()) {
    c.dev_pseudonym_key = true;
    *key = "hotline-development-key";
  } else if (key->size() < 16) {
    return absl::InvalidArgumentError("INTAKE_PSEUDONYM_KEY: must be at least 16 characters");
  }
  c.core.pseudonym_key = *key;
  auto dup_window = env.Int("INTAKE_DUPLICATE_WINDOW_HOURS", 72, 1, 24 * 90);
  if (!dup_window.ok()) return dup_window.status();
  c.core.duplicate_window = absl::Hours(*dup_window);
  auto sim = env.Int("INTAKE_DUPLICATE_SIMILARITY_PERCENT", 60, 1, 100);
  if (!sim.ok()) return sim.status();
  c.core.duplicate_similarity = *sim / 100.0;
  auto cov = env.Int("INTAKE_DIRECT_ANSWER_COVERAGE_PERCENT", 60, 1, 101);
  if (!cov.ok()) return cov.status();
  c.core.direct_answer_coverage = *cov / 100.0;  // 101 turns direct answers off
  auto kb = env.String("INTAKE_KNOWLEDGE_BASE", "deploy/knowledge/knowledge_base.jsonl");
  if (!kb.ok()) return kb.status();
  c.knowledge_base_path = *kb;
  auto open311 = env.StringOrEmpty("INTAKE_OPEN311_ADDR", "0.0.0.0:8080");  // "" turns it off
  if (!open311.ok()) return open311.status();
  if (!open311->empty()) {
    auto addr = env.Address("INTAKE_OPEN311_ADDR", "0.0.0.0:8080");
    if (!addr.ok()) return addr.status();
  }
  c.open311_addr = *open311;
  auto body = env.Int("INTAKE_OPEN311_MAX_BODY_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024);
  if (!body.ok()) return body.status();
  c.open311.http.max_body_bytes = static_cast<size_t>(*body);
  auto read_ms = env.Int("INTAKE_OPEN311_READ_TIMEOUT_MS", 5000, 100, 60000);
  if (!read_ms.ok()) return read_ms.status();
  c.open311.http.read_timeout = absl::Milliseconds(*read_ms);
  auto conns = env.Int("INTAKE_OPEN311_MAX_CONNECTIONS", 64, 1, 1024);
  if (!conns.ok()) return conns.status();
  c.open311.http.max_connections = static_cast<int>(*conns);

  auto per_ticket = env.Int("INTAKE_VERIFY_MAX_FAILURES", 5, 1, 1000);
  if (!per_ticket.ok()) return per_ticket.status();
  c.verification.max_failures_per_ticket = static_cast<int>(*per_ticket);
  auto per_caller = env.Int("INTAKE_VERIFY_MAX_FAILURES_PER_CALLER", 100, 1, 1000000);
  if (!per_caller.ok()) return per_caller.status();
  c.verification.max_failures_per_caller = static_cast<int>(*per_caller);
  auto window = env.Int("INTAKE_VERIFY_WINDOW_SECONDS", 900, 1, 7 * 86400);
  if (!window.ok()) return window.status();
  c.verification.window = absl::Seconds(*window);
  auto lockout = env.Int("INTAKE_VERIFY_LOCKOUT_SECONDS", 900, 1, 7 * 86400);
  if (!lockout.ok()) return lockout.status();
  c.verification.lockout = absl::Seconds(*lockout);
  auto deps = env.StringOrEmpty("INTAKE_DEPARTMENTS", "");
  if (!deps.ok()) return deps.status();
  c.departments_path = *deps;
  if (!c.departments_path.empty()) {
    auto names = LoadDepartmentNames(c.departments_path);
    if (!names.ok()) return names.status();
    c.core.department_names = *std::move(names);
  }
  return c;
}

absl::StatusOr<std::map<std::string, std::string>> LoadDepartmentNames(
    const std::string& path, const std::string& variable) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(variable, ": cannot read '", path, "'"));
  std::map<std::string, std::string> names;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() < 2 || cols[0].empty() || cols[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(variable, ": ", path, ":", n, ": want id<TAB>name"));
    }
    names[cols[0]] = cols[1];
  }
  return names;
}

}  // namespace hotline::intake

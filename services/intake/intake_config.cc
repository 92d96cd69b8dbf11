#include "services/intake/intake_config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

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
  auto window = env.Int("INTAKE_DUPLICATE_WINDOW_HOURS", 72, 1, 24 * 90);
  if (!window.ok()) return window.status();
  c.core.duplicate_window = absl::Hours(*window);
  auto sim = env.Int("INTAKE_DUPLICATE_SIMILARITY_PERCENT", 60, 1, 100);
  if (!sim.ok()) return sim.status();
  c.core.duplicate_similarity = *sim / 100.0;
  auto cov = env.Int("INTAKE_DIRECT_ANSWER_COVERAGE_PERCENT", 60, 1, 101);
  if (!cov.ok()) return cov.status();
  c.core.direct_answer_coverage = *cov / 100.0;  // 101 turns direct answers off
  auto kb = env.String("INTAKE_KNOWLEDGE_BASE", "deploy/knowledge/knowledge_base.jsonl");
  if (!kb.ok()) return kb.status();
  c.knowledge_base_path = *kb;
  auto open311 = env.String("INTAKE_OPEN311_ADDR", "0.0.0.0:8080");
  if (!open311.ok()) return open311.status();
  if (!open311->empty()) {
    auto addr = env.Address("INTAKE_OPEN311_ADDR", "0.0.0.0:8080");
    if (!addr.ok()) return addr.status();
  }
  c.open311_addr = *open311;
  return c;
}

}  // namespace hotline::intake

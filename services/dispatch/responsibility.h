#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace hotline::dispatch {

struct Department {
  std::string id;
  std::string name;
  std::string contact;
  std::string calendar;  // the working calendar the SLA timer uses for it
};

// The responsibility list (职责清单): category × district → department. A row with district
// "*" is the category's default; a row for a district overrides it; the "*" category row is the
// city-wide fallback. Loaded from two tab-separated files under deploy/dispatch/.
class ResponsibilityMatrix {
 public:
  // departments.tsv: id, name, contact, calendar.  responsibility.tsv: category, district,
  // department id. '#' starts a comment line. Every department named must exist.
  static absl::StatusOr<std::unique_ptr<ResponsibilityMatrix>> Load(
      const std::string& departments_path, const std::string& matrix_path);
  // The department for a category in a district; "" when neither the category nor a city-wide
  // fallback is configured.
  std::string Resolve(const std::string& category, const std::string& district) const;
  const Department* Find(const std::string& id) const;
  const std::map<std::string, Department>& departments() const { return departments_; }

 private:
  std::map<std::string, Department> departments_;
  std::map<std::pair<std::string, std::string>, std::string> rules_;  // (category, district)
};

}  // namespace hotline::dispatch

#include "services/dispatch/responsibility.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace hotline::dispatch {
namespace {

absl::Status ReadTsv(const std::string& path, size_t columns,
                     std::vector<std::vector<std::string>>* rows) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (absl::StripAsciiWhitespace(line).empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() < columns) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", n, ": expected ", columns,
                                                     " tab-separated columns, got ", f.size()));
    }
    for (auto& x : f) x = std::string(absl::StripAsciiWhitespace(x));
    rows->push_back(std::move(f));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ResponsibilityMatrix>> ResponsibilityMatrix::Load(
    const std::string& departments_path, const std::string& matrix_path) {
  auto m = std::make_unique<ResponsibilityMatrix>();
  std::vector<std::vector<std::string>> rows;
  if (auto s = ReadTsv(departments_path, 4, &rows); !s.ok()) return s;
  for (auto& r : rows) m->departments_[r[0]] = Department{r[0], r[1], r[2], r[3]};
  rows.clear();
  if (auto s = ReadTsv(matrix_path, 3, &rows); !s.ok()) return s;
  for (auto& r : rows) {
    if (!m->departments_.count(r[2])) {
      return absl::InvalidArgumentError(
          absl::StrCat(matrix_path, ": department '", r[2], "' is not in ", departments_path));
    }
    m->rules_[{r[0], r[1]}] = r[2];
  }
  return m;
}

std::string ResponsibilityMatrix::Resolve(const std::string& category,
                                          const std::string& district) const {
  for (const auto& key :
       {std::make_pair(category, district), std::make_pair(category, std::string("*")),
        std::make_pair(std::string("*"), district),
        std::make_pair(std::string("*"), std::string("*"))}) {
    auto it = rules_.find(key);
    if (it != rules_.end()) return it->second;
  }
  return "";
}

const Department* ResponsibilityMatrix::Find(const std::string& id) const {
  auto it = departments_.find(id);
  return it == departments_.end() ? nullptr : &it->second;
}

}  // namespace hotline::dispatch

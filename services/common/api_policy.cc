#include "services/common/api_policy.h"

#include <google/protobuf/descriptor.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hotline {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

size_t MaxBytes(const ApiPolicy& policy, const FieldDescriptor* f) {
  auto it = policy.max_bytes.find(f->full_name());
  return it == policy.max_bytes.end() ? policy.default_max_bytes : it->second;
}

absl::Status TooLong(const std::string& path, size_t size, size_t max) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": is ", size, " bytes long, at most ", max, " allowed"));
}

absl::Status CheckMessage(const ApiPolicy& policy, const Message& m, const std::string& prefix,
                          int depth) {
  if (depth > 16) return absl::InvalidArgumentError(absl::StrCat(prefix, ": nested too deeply"));
  const Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    const std::string path = prefix.empty() ? f->name() : absl::StrCat(prefix, ".", f->name());
    const bool is_string = f->cpp_type() == FieldDescriptor::CPPTYPE_STRING;
    const bool is_message = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (f->is_repeated()) {
      const int n = r->FieldSize(m, f);
      if (static_cast<size_t>(n) > policy.max_repeated) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": has ", n, " elements, at most ",
                                                       policy.max_repeated, " allowed"));
      }
      for (int i = 0; i < n; ++i) {
        const std::string item = absl::StrCat(path, "[", i, "]");
        if (is_string) {
          std::string scratch;
          const std::string& v = r->GetRepeatedStringReference(m, f, i, &scratch);
          if (v.size() > MaxBytes(policy, f)) return TooLong(item, v.size(), MaxBytes(policy, f));
        } else if (is_message) {
          if (auto s = CheckMessage(policy, r->GetRepeatedMessage(m, f, i), item, depth + 1);
              !s.ok()) {
            return s;
          }
        }
      }
    } else if (is_string) {
      std::string scratch;
      const std::string& v = r->GetStringReference(m, f, &scratch);
      if (v.size() > MaxBytes(policy, f)) return TooLong(path, v.size(), MaxBytes(policy, f));
    } else if (is_message) {
      if (auto s = CheckMessage(policy, r->GetMessage(m, f), path, depth + 1); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string StringField(const Message& m, const std::string& name) {
  const FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->is_repeated() || f->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
    return "";
  }
  return m.GetReflection()->GetString(m, f);
}

absl::StatusOr<Access> CheckAccess(const ApiPolicy& policy, const std::string& method,
                                   const Principal& principal, const Message& request) {
  auto it = policy.methods.find(method);
  if (it == policy.methods.end()) {
    return absl::PermissionDeniedError(
        absl::StrCat(method, " is not in this service's authorization table"));
  }
  const MethodRule& rule = it->second;
  if (!rule.roles.count(principal.role)) {
    std::vector<std::string> names;
    for (Role r : rule.roles) names.push_back(RoleName(r));
    return absl::PermissionDeniedError(
        absl::StrCat("role '", RoleName(principal.role), "' may not call ", method,
                     " (allowed: ", absl::StrJoin(names, ", "), ")"));
  }
  Access a;
  a.principal = principal;
  if (rule.department_field.empty()) return a;
  const std::string named = StringField(request, rule.department_field);
  if (principal.role == Role::kDepartment) {
    if (!named.empty() && named != principal.department) {
      return absl::PermissionDeniedError(
          absl::StrCat("department ", principal.department, " may not act for department ", named));
    }
    a.department = principal.department;
  } else {
    a.department = named;
  }
  return a;
}

absl::Status CheckLimits(const ApiPolicy& policy, const Message& request) {
  return CheckMessage(policy, request, "", 0);
}

}  // namespace hotline

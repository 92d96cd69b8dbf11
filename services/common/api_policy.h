#pragma once

#include <google/protobuf/message.h>

#include <cstddef>
#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/auth.h"

namespace hotline {

// Who may call one RPC (DESIGN.md "Who may do what").
struct MethodRule {
  MethodRule(std::set<Role> allowed, std::string department = "", bool audited = false)
      : roles(std::move(allowed)), department_field(std::move(department)), audit(audited) {}

  std::set<Role> roles;
  // The request field that names the department acted for ("" = none). A department token may
  // name only itself there (an empty field means itself); other allowed roles may name any.
  std::string department_field;
  // Changes state: every call is written to the audit log (who, what, which ticket, outcome).
  bool audit = false;
};

// One service's API policy, declared in one place per service (`<service>_api.cc`): which role
// may call which method, and the size of every input. Methods are named "Service/Method"
// (e.g. "IntakeService/SubmitRequest"); a method without an entry is denied to everyone.
struct ApiPolicy {
  std::map<std::string, MethodRule> methods;
  // Maximum bytes of a string or bytes field, by full field name
  // ("hotline.v1.SubmitRequestRequest.text"); other string fields get `default_max_bytes`.
  std::map<std::string, size_t> max_bytes;
  size_t default_max_bytes = 256;
  // Maximum elements of any repeated field.
  size_t max_repeated = 100;
};

// What the gate decided for one call.
struct Access {
  Principal principal;
  std::string department;  // the department acted for: the named one, or a department's own
};

// Default deny: PERMISSION_DENIED when `method` has no rule, the role is not listed, or a
// department names another department in the rule's department field.
absl::StatusOr<Access> CheckAccess(const ApiPolicy& policy, const std::string& method,
                                   const Principal& principal,
                                   const google::protobuf::Message& request);

// INVALID_ARGUMENT naming the first field (dotted path, e.g. "location.address") that is longer
// than its limit or has too many elements. Walks nested messages.
absl::Status CheckLimits(const ApiPolicy& policy, const google::protobuf::Message& request);

// The value of a top-level string field by name, "" when absent (e.g. "ticket_id" for the audit
// log).
std::string StringField(const google::protobuf::Message& m, const std::string& name);

}  // namespace hotline

#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/config.h"

namespace hotline {

// Who may call (DESIGN.md "Who may do what"). Every call carries "authorization: Bearer <token>";
// the token maps to a principal with a role and, for departments, the department id.
enum class Role { kChannel, kCallTaker, kDispatcher, kDepartment, kSupervisor, kAnalyst, kService };

struct Principal {
  std::string name;
  Role role = Role::kChannel;
  std::string department;  // for Role::kDepartment
};

const char* RoleName(Role r);

class Authenticator {
 public:
  // HOTLINE_AUTH_TOKENS_FILE: one principal per line, "<token> <role> [department] [name]"
  // ('#' comments; roles: channel, call-taker, dispatcher, department, supervisor, analyst,
  // service). Mount it from a Kubernetes Secret. Without it, start-up fails unless
  // HOTLINE_AUTH_DISABLED=1, the explicit development mode (every caller is a supervisor;
  // logged at start).
  static absl::StatusOr<std::unique_ptr<Authenticator>> FromEnv(const EnvReader& env);
  static absl::StatusOr<std::unique_ptr<Authenticator>> FromFile(const std::string& path);
  static std::unique_ptr<Authenticator> Disabled();

  bool disabled() const { return disabled_; }
  // UNAUTHENTICATED without a known bearer token.
  absl::StatusOr<Principal> Authenticate(const grpc::CallbackServerContext* ctx) const;
  absl::StatusOr<Principal> AuthenticateToken(const std::string& authorization_header) const;
  // Authenticate, then Require: the caller if it has one of `roles`.
  absl::StatusOr<Principal> Authorize(const grpc::CallbackServerContext* ctx,
                                      std::set<Role> roles) const;
  // PERMISSION_DENIED unless the principal has one of `roles`.
  static absl::Status Require(const Principal& p, std::set<Role> roles);
  // For department actions: a department may act only as itself; dispatchers, supervisors and
  // services may act for any department.
  static absl::Status RequireDepartment(const Principal& p, const std::string& department);

 private:
  bool disabled_ = false;
  std::map<std::string, Principal> tokens_;
};

}  // namespace hotline

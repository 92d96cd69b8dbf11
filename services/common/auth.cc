#include "services/common/auth.h"

#include <openssl/crypto.h>

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace hotline {
namespace {

const std::pair<const char*, Role> kRoles[] = {
    {"channel", Role::kChannel},       {"call-taker", Role::kCallTaker},
    {"dispatcher", Role::kDispatcher}, {"department", Role::kDepartment},
    {"supervisor", Role::kSupervisor}, {"analyst", Role::kAnalyst},
    {"service", Role::kService}};

}  // namespace

const char* RoleName(Role r) {
  for (const auto& [name, role] : kRoles) {
    if (role == r) return name;
  }
  return "?";
}

std::unique_ptr<Authenticator> Authenticator::Disabled() {
  auto a = std::make_unique<Authenticator>();
  a->disabled_ = true;
  return a;
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::FromEnv(const EnvReader& env) {
  auto disabled = env.Bool("HOTLINE_AUTH_DISABLED", false);
  if (!disabled.ok()) return disabled.status();
  auto path = env.String("HOTLINE_AUTH_TOKENS_FILE", "");
  if (!path.ok()) return path.status();
  if (!path->empty()) return FromFile(*path);
  if (*disabled) return Disabled();
  return absl::InvalidArgumentError(
      "HOTLINE_AUTH_TOKENS_FILE: is required (or set HOTLINE_AUTH_DISABLED=1 for development "
      "only)");
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat("HOTLINE_AUTH_TOKENS_FILE: cannot open ", path));
  auto a = std::make_unique<Authenticator>();
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto t = absl::StripAsciiWhitespace(line);
    if (t.empty() || t[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(t, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(
          absl::StrCat("HOTLINE_AUTH_TOKENS_FILE: ", path, ":", n, ": ", why));
    };
    if (f.size() < 2) return bad("expected '<token> <role> [department] [name]'");
    if (f[0].size() < 16) return bad("tokens must be at least 16 characters");
    Principal p;
    bool known = false;
    for (const auto& [name, role] : kRoles) {
      if (f[1] == name) {
        p.role = role;
        known = true;
      }
    }
    if (!known) return bad(absl::StrCat("unknown role '", f[1], "'"));
    size_t next = 2;
    if (p.role == Role::kDepartment) {
      if (f.size() < 3) return bad("a department token names its department id");
      p.department = f[next++];
    }
    p.name = f.size() > next ? f[next] : absl::StrCat(f[1], "@line", n);
    if (!a->tokens_.emplace(f[0], p).second) return bad("duplicate token");
  }
  return a;
}

absl::StatusOr<Principal> Authenticator::AuthenticateToken(const std::string& header) const {
  if (disabled_) return Principal{"dev-mode", Role::kSupervisor, ""};
  const std::string prefix = "Bearer ";
  if (header.rfind(prefix, 0) != 0) {
    return absl::UnauthenticatedError("authorization: send 'Bearer <token>' metadata");
  }
  std::string token = header.substr(prefix.size());
  // Compare every token in constant time, so timing does not reveal a prefix.
  const Principal* found = nullptr;
  for (const auto& [t, p] : tokens_) {
    if (t.size() == token.size() && CRYPTO_memcmp(t.data(), token.data(), t.size()) == 0)
      found = &p;
  }
  if (!found) return absl::UnauthenticatedError("authorization: unknown token");
  return *found;
}

absl::StatusOr<Principal> Authenticator::Authenticate(
    const grpc::CallbackServerContext* ctx) const {
  if (disabled_) return AuthenticateToken("");
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return absl::UnauthenticatedError("authorization: metadata is missing");
  return AuthenticateToken(std::string(it->second.data(), it->second.size()));
}

absl::StatusOr<Principal> Authenticator::Authorize(const grpc::CallbackServerContext* ctx,
                                                   std::set<Role> roles) const {
  auto p = Authenticate(ctx);
  if (!p.ok()) return p.status();
  if (auto s = Require(*p, std::move(roles)); !s.ok()) return s;
  return p;
}

absl::Status Authenticator::Require(const Principal& p, std::set<Role> roles) {
  if (roles.count(p.role)) return absl::OkStatus();
  std::vector<std::string> names;
  for (Role r : roles) names.push_back(RoleName(r));
  return absl::PermissionDeniedError(absl::StrCat(
      "role '", RoleName(p.role), "' may not do this (needs ", absl::StrJoin(names, " or "), ")"));
}

absl::Status Authenticator::RequireDepartment(const Principal& p, const std::string& department) {
  if (p.role == Role::kDispatcher || p.role == Role::kSupervisor || p.role == Role::kService)
    return absl::OkStatus();
  if (p.role == Role::kDepartment && p.department == department) return absl::OkStatus();
  if (p.role == Role::kDepartment) {
    return absl::PermissionDeniedError(
        absl::StrCat("department ", p.department, " may not act for department ", department));
  }
  return absl::PermissionDeniedError(
      absl::StrCat("role '", RoleName(p.role), "' may not act for a department"));
}

}  // namespace hotline

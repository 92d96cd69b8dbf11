#include "services/common/auth.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/support/processes.h"

using namespace hotline;

TEST_CASE("tokens file: roles, departments, and errors that name the line") {
  testing::TempDir dir;
  std::ofstream(dir.path() + "/tokens") << "# token role [department] [name]\n"
                                           "tok-roads-0123456789 department d-roads roads-bureau\n"
                                           "tok-super-0123456789 supervisor\n"
                                           "tok-app-000123456789 channel wechat-app\n";
  auto a = Authenticator::FromFile(dir.path() + "/tokens");
  REQUIRE(a.ok());
  auto roads = (*a)->AuthenticateToken("Bearer tok-roads-0123456789");
  REQUIRE(roads.ok());
  CHECK(roads->role == Role::kDepartment);
  CHECK(roads->department == "d-roads");
  CHECK(roads->name == "roads-bureau");
  CHECK(absl::IsUnauthenticated((*a)->AuthenticateToken("Bearer wrong-token-0000000").status()));
  CHECK(absl::IsUnauthenticated(
      (*a)->AuthenticateToken("tok-roads-0123456789").status()));  // no "Bearer "

  CHECK(Authenticator::RequireDepartment(*roads, "d-roads").ok());
  auto other = Authenticator::RequireDepartment(*roads, "d-parks");
  CHECK(absl::IsPermissionDenied(other));
  CHECK(std::string(other.message()) == "department d-roads may not act for department d-parks");
  auto super = (*a)->AuthenticateToken("Bearer tok-super-0123456789");
  CHECK(Authenticator::RequireDepartment(*super, "d-parks").ok());
  auto app = (*a)->AuthenticateToken("Bearer tok-app-000123456789");
  CHECK(absl::IsPermissionDenied(Authenticator::Require(*app, {Role::kSupervisor})));
  CHECK(Authenticator::Require(*app, {Role::kChannel, Role::kService}).ok());

  std::ofstream(dir.path() + "/bad") << "short department d-x\n";
  auto bad = Authenticator::FromFile(dir.path() + "/bad");
  CHECK(std::string(bad.status().message()).find(":1: tokens must be at least 16") !=
        std::string::npos);
  std::ofstream(dir.path() + "/bad2") << "tok-0123456789abcdef department\n";
  CHECK(std::string(Authenticator::FromFile(dir.path() + "/bad2").status().message())
            .find("names its department") != std::string::npos);
}

TEST_CASE("without a tokens file start-up fails unless development mode is explicit") {
  auto none =
      Authenticator::FromEnv(EnvReader([](const std::string&) -> const char* { return nullptr; }));
  REQUIRE_FALSE(none.ok());
  CHECK(std::string(none.status().message()).rfind("HOTLINE_AUTH_TOKENS_FILE:", 0) == 0);
  auto dev = Authenticator::FromEnv(EnvReader([](const std::string& n) -> const char* {
    return n == "HOTLINE_AUTH_DISABLED" ? "1" : nullptr;
  }));
  REQUIRE(dev.ok());
  CHECK((*dev)->disabled());
  CHECK((*dev)->AuthenticateToken("").ok());
}

// The operator tools read their command line strictly: an unknown or malformed flag stops them
// with exit 2 and a message naming the flag; --help prints usage on stdout and exits 0.
#include <catch2/catch.hpp>
#include <string>

#include "tests/support/service_process.h"

using hotline::testing::Run;

namespace {

struct Result {
  int rc = -1;
  std::string out;  // stdout only
  std::string all;  // stdout and stderr
};

Result Tool(const std::string& binary, const std::string& args) {
  Result r;
  r.out = Run(binary + " " + args + " 2>/dev/null", &r.rc);
  int rc2 = 0;
  r.all = Run(binary + " " + args + " 2>&1", &rc2);
  return r;
}

}  // namespace

TEST_CASE("hotline-health: --help, unknown and malformed flags") {
  const std::string bin = HOTLINE_HEALTH_BIN;
  auto help = Tool(bin, "--help");
  CHECK(help.rc == 0);
  CHECK_THAT(help.out, Catch::StartsWith("usage: hotline-health") && Catch::Contains("--tls-ca"));

  auto unknown = Tool(bin, "--tls-ca-file x 127.0.0.1:1");
  CHECK(unknown.rc == 2);
  CHECK(unknown.out.empty());
  CHECK_THAT(unknown.all, Catch::Contains("unknown flag --tls-ca-file"));

  auto bad_timeout = Tool(bin, "--timeout-ms soon 127.0.0.1:1");
  CHECK(bad_timeout.rc == 2);
  CHECK_THAT(bad_timeout.all, Catch::Contains("--timeout-ms: 'soon'"));

  auto bad_positional = Tool(bin, "127.0.0.1:1 '' 12abc");
  CHECK(bad_positional.rc == 2);
  CHECK_THAT(bad_positional.all, Catch::Contains("TIMEOUT_MS: '12abc'"));

  auto no_value = Tool(bin, "127.0.0.1:1 --tls-ca");
  CHECK(no_value.rc == 2);
  CHECK_THAT(no_value.all, Catch::Contains("--tls-ca: needs a value"));

  auto no_target = Tool(bin, "--plaintext");
  CHECK(no_target.rc == 2);
  CHECK_THAT(no_target.all, Catch::Contains("HOST:PORT is required"));

  auto empty_value = Tool(bin, "--tls-ca '' 127.0.0.1:1");
  CHECK(empty_value.rc == 2);
  CHECK_THAT(empty_value.all, Catch::Contains("--tls-ca: needs a non-empty value"));

  auto twice = Tool(bin, "--plaintext --service a 127.0.0.1:1 b");
  CHECK(twice.rc == 2);
  CHECK_THAT(twice.all, Catch::Contains("--service: given twice (flag and SERVICE)"));

  auto missing_file = Tool(bin, "--tls-ca /no/such/ca.pem 127.0.0.1:1");
  CHECK(missing_file.rc == 2);
  CHECK_THAT(missing_file.all, Catch::Contains("--tls-ca: cannot read '/no/such/ca.pem'"));
}

TEST_CASE("hotlinectl: --help, unknown and malformed flags") {
  const std::string bin = HOTLINECTL_BIN;
  auto help = Tool(bin, "--help");
  CHECK(help.rc == 0);
  CHECK_THAT(help.out, Catch::StartsWith("usage: hotlinectl") && Catch::Contains("--tls-cert") &&
                           Catch::Contains("--channel V"));
  CHECK(Tool(bin, "-h").rc == 0);

  auto unknown = Tool(bin, "--adress 127.0.0.1:1 get 1");
  CHECK(unknown.rc == 2);
  CHECK_THAT(unknown.all, Catch::Contains("unknown flag --adress"));

  auto bad_timeout = Tool(bin, "--timeout-ms=-5 get 1");
  CHECK(bad_timeout.rc == 2);
  CHECK_THAT(bad_timeout.all, Catch::Contains("--timeout-ms: '-5'"));

  auto misplaced = Tool(bin, "get 1 --text hello");
  CHECK(misplaced.rc == 2);
  CHECK_THAT(misplaced.all, Catch::Contains("--text: only for submit"));

  auto bool_with_value = Tool(bin, "--json=yes get 1");
  CHECK(bool_with_value.rc == 2);
  CHECK_THAT(bool_with_value.all, Catch::Contains("--json: takes no value"));

  auto conflict = Tool(bin, "--plaintext --tls-ca ca.pem get 1");
  CHECK(conflict.rc == 2);
  CHECK_THAT(conflict.all, Catch::Contains("--plaintext: cannot be combined with --tls-ca"));

  auto no_command = Tool(bin, "--json");
  CHECK(no_command.rc == 2);
  CHECK_THAT(no_command.all, Catch::Contains("a command is required"));

  auto wrong_arity = Tool(bin, "--plaintext get");
  CHECK(wrong_arity.rc == 2);
  CHECK_THAT(wrong_arity.all, Catch::Contains("wrong number of arguments: get"));
}

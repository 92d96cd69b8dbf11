// The gRPC client tools' shared flags (tools/common/client_flags): the TLS flag set, the channel
// it configures, and the deadline.
#include "tools/common/client_flags.h"

#include <catch2/catch.hpp>

using hotline::ClientTlsFlags;
using hotline::flags::FlagParser;

TEST_CASE("AddClientTlsFlags declares the five TLS flags and fills ClientTlsFlags") {
  ClientTlsFlags tls;
  FlagParser p("tool");
  hotline::flags::AddClientTlsFlags(p, &tls);
  REQUIRE(p.Parse({"--tls-ca", "ca.pem", "--tls-cert=c.pem", "--tls-key", "k.pem",
                   "--tls-server-name", "intake.example", "--plaintext"})
              .ok());
  CHECK(tls.ca == "ca.pem");
  CHECK(tls.cert == "c.pem");
  CHECK(tls.key == "k.pem");
  CHECK(tls.server_name == "intake.example");
  CHECK(tls.plaintext);
  std::string usage = p.Usage();
  for (const char* flag : {"--plaintext", "--tls-ca V", "--tls-cert V", "--tls-key V",
                           "--tls-server-name V", "$HOTLINE_TLS_CA"}) {
    CHECK(usage.find(flag) != std::string::npos);
  }
}

TEST_CASE("ClientChannel applies the flags: plain text, conflicts and unreadable files named") {
  ClientTlsFlags plain;
  plain.plaintext = true;
  CHECK(hotline::flags::ClientChannel("127.0.0.1:1", plain).ok());

  ClientTlsFlags both = plain;
  both.ca = "ca.pem";
  CHECK(hotline::flags::ClientChannel("127.0.0.1:1", both).status() ==
        absl::InvalidArgumentError("--plaintext: cannot be combined with --tls-ca"));

  ClientTlsFlags missing;
  missing.ca = "/no/such/ca.pem";
  auto channel = hotline::flags::ClientChannel("127.0.0.1:1", missing);
  REQUIRE(absl::IsInvalidArgument(channel.status()));
  CHECK_THAT(std::string(channel.status().message()),
             Catch::StartsWith("--tls-ca: cannot read '/no/such/ca.pem'"));
}

TEST_CASE("ParseTimeoutMs takes 1..600000 ms and names the source otherwise") {
  CHECK(*hotline::flags::ParseTimeoutMs("--timeout-ms", "1") == 1);
  CHECK(*hotline::flags::ParseTimeoutMs("--timeout-ms", "600000") == 600000);
  for (const char* bad : {"0", "600001", "-5", "soon", "12abc", "", "99999999999999999999"}) {
    CHECK(hotline::flags::ParseTimeoutMs("TIMEOUT_MS", bad).status() ==
          absl::InvalidArgumentError(absl::StrCat(
              "TIMEOUT_MS: '", bad, "' is not a number of milliseconds in 1..600000")));
  }
}

// TLS and mutual TLS for gRPC, against a real service binary (hotline-ivr-routing, the lightest)
// with certificates made here by `openssl`: a CA, a server certificate for 127.0.0.1/localhost,
// a client certificate from the same CA, and a self-signed "rogue" client certificate.
#include "services/common/tls.h"

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "services/common/config.h"
#include "tests/support/processes.h"
#include "tests/support/service_process.h"

using namespace hotline;
using namespace hotline::testing;

namespace {

bool HaveOpenssl() {
  int rc = 0;
  Run("openssl version >/dev/null 2>&1", &rc);
  return rc == 0;
}

// Catch2 v2 has no SKIP: warn and pass, so a machine without openssl says why nothing ran.
#define SKIP_WITHOUT_OPENSSL()                                              \
  do {                                                                      \
    if (!HaveOpenssl()) {                                                   \
      WARN("SKIP: openssl not installed (tools/install-deps installs it)"); \
      return;                                                               \
    }                                                                       \
  } while (0)

// Certificates for one test run. P-256 keys: generating them takes milliseconds, unlike RSA.
struct Certs {
  TempDir dir;
  std::string P(const std::string& f) const { return dir.path() + "/" + f; }
  std::string error;

  Certs() {
    const std::string d = dir.path();
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::ofstream(d + "/server.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                        "extendedKeyUsage=serverAuth\n";
    std::ofstream(d + "/client.ext") << "extendedKeyUsage=clientAuth\n";
    const std::string script =
        "set -e; cd '" + d +
        "'; "
        "openssl req -x509" +
        ec +
        " -keyout ca.key -out ca.crt -days 2 -subj '/CN=Hotline Test CA'"
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign; "
        "openssl req" +
        ec +
        " -keyout server.key -out server.csr -subj /CN=localhost; "
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 2"
        " -extfile server.ext -out server.crt; "
        "openssl req" +
        ec +
        " -keyout client.key -out client.csr -subj /CN=hotlinectl; "
        "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -set_serial 3 -days 2"
        " -extfile client.ext -out client.crt; "
        "openssl req -x509" +
        ec +
        " -keyout rogue.key -out rogue.crt -days 2 -subj /CN=rogue"
        " -addext extendedKeyUsage=clientAuth; "
        "echo 'not a certificate' > garbage.pem";
    int rc = 0;
    std::string out = Run("(" + script + ") 2>&1", &rc);
    if (rc != 0) error = out;
  }
};

EnvReader FakeEnv(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return EnvReader([shared](const std::string& n) -> const char* {
    auto it = shared->find(n);
    return it == shared->end() ? nullptr : it->second.c_str();
  });
}

// `hotline-health FLAGS ADDR`: exit code and what it printed (stdout and stderr).
std::pair<int, std::string> Health(const std::string& addr, const std::string& flags) {
  int rc = 0;
  std::string out = Run(
      std::string(HOTLINE_HEALTH_BIN) + " " + flags + " --timeout-ms 3000 " + addr + " 2>&1", &rc);
  return {rc, out};
}

// One Redis, one broker, and two services for the whole file: TLS only, and mutual TLS.
struct Stack {
  Certs certs;
  RedisServer redis;
  DevBroker broker{1};
  std::string ca_flags = "--tls-ca " + certs.P("ca.crt");
  std::string client_flags =
      ca_flags + " --tls-cert " + certs.P("client.crt") + " --tls-key " + certs.P("client.key");
  std::unique_ptr<ServiceProcess> tls, mtls;

  Stack() {
    if (!certs.error.empty()) throw std::runtime_error("openssl failed: " + certs.error);
    const std::vector<std::string> server_env = {
        // Empty = unset: overrides ServiceProcess's plain-text default.
        "HOTLINE_GRPC_PLAINTEXT=", "HOTLINE_TLS_CERT=" + certs.P("server.crt"),
        "HOTLINE_TLS_KEY=" + certs.P("server.key")};
    tls = std::make_unique<ServiceProcess>(
        HOTLINE_IVR_ROUTING_BIN, "redis://127.0.0.1:" + std::to_string(redis.port()) + "/1",
        broker.bootstrap(), server_env, std::vector<std::string>{"--tls-ca", certs.P("ca.crt")});
    std::vector<std::string> mtls_env = server_env;
    mtls_env.push_back("HOTLINE_TLS_CA=" + certs.P("ca.crt"));
    mtls_env.push_back("HOTLINE_TLS_CLIENT_AUTH=require");
    mtls = std::make_unique<ServiceProcess>(
        HOTLINE_IVR_ROUTING_BIN, "redis://127.0.0.1:" + std::to_string(redis.port()) + "/2",
        broker.bootstrap(), mtls_env,
        std::vector<std::string>{"--tls-ca", certs.P("ca.crt"), "--tls-cert", certs.P("client.crt"),
                                 "--tls-key", certs.P("client.key")});
  }
};

Stack& S() {
  static Stack stack;
  return stack;
}

}  // namespace

TEST_CASE("server TLS settings: explicit plain text or a certificate, errors name the variable") {
  SKIP_WITHOUT_OPENSSL();
  Certs c;
  REQUIRE(c.error.empty());

  auto none = LoadServerTlsConfig(FakeEnv({}));
  REQUIRE_FALSE(none.ok());
  CHECK_THAT(std::string(none.status().message()), Catch::StartsWith("HOTLINE_TLS_CERT: required"));

  auto plain = LoadServerTlsConfig(FakeEnv({{"HOTLINE_GRPC_PLAINTEXT", "1"}}));
  REQUIRE(plain.ok());
  CHECK(plain->plaintext);

  auto both = LoadServerTlsConfig(
      FakeEnv({{"HOTLINE_GRPC_PLAINTEXT", "1"}, {"HOTLINE_TLS_CERT", c.P("server.crt")}}));
  REQUIRE_FALSE(both.ok());
  CHECK_THAT(std::string(both.status().message()),
             Catch::StartsWith("HOTLINE_GRPC_PLAINTEXT: set together with HOTLINE_TLS_CERT"));

  const std::map<std::string, std::string> good = {{"HOTLINE_TLS_CERT", c.P("server.crt")},
                                                   {"HOTLINE_TLS_KEY", c.P("server.key")}};
  auto with = [&](std::map<std::string, std::string> extra) {
    auto env = good;
    for (auto& [k, v] : extra) env[k] = v;
    return LoadServerTlsConfig(FakeEnv(env));
  };
  auto ok = with({});
  REQUIRE(ok.ok());
  CHECK_FALSE(ok->plaintext);
  CHECK_FALSE(ok->require_client_cert);
  CHECK(ok->cert_pem.find("BEGIN CERTIFICATE") != std::string::npos);

  auto mtls = with({{"HOTLINE_TLS_CA", c.P("ca.crt")}, {"HOTLINE_TLS_CLIENT_AUTH", "require"}});
  REQUIRE(mtls.ok());
  CHECK(mtls->require_client_cert);

  auto message = [&](std::map<std::string, std::string> extra) {
    auto r = with(std::move(extra));
    return r.ok() ? std::string("ok") : std::string(r.status().message());
  };
  CHECK_THAT(message({{"HOTLINE_TLS_CLIENT_AUTH", "maybe"}}),
             Catch::StartsWith("HOTLINE_TLS_CLIENT_AUTH: 'maybe' is not one of"));
  CHECK_THAT(message({{"HOTLINE_TLS_CLIENT_AUTH", "require"}}),
             Catch::StartsWith("HOTLINE_TLS_CA: required by HOTLINE_TLS_CLIENT_AUTH=require"));
  CHECK_THAT(message({{"HOTLINE_TLS_CERT", c.P("missing.crt")}}),
             Catch::StartsWith("HOTLINE_TLS_CERT: cannot read") && Catch::Contains("No such file"));
  CHECK_THAT(message({{"HOTLINE_TLS_CERT", c.P("garbage.pem")}}),
             Catch::StartsWith("HOTLINE_TLS_CERT:") && Catch::Contains("no PEM certificate"));
  CHECK_THAT(message({{"HOTLINE_TLS_KEY", c.P("client.key")}}),
             Catch::StartsWith("HOTLINE_TLS_KEY:") && Catch::Contains("does not match"));
  CHECK_THAT(message({{"HOTLINE_TLS_KEY", c.P("server.crt")}}),
             Catch::StartsWith("HOTLINE_TLS_KEY:") && Catch::Contains("no unencrypted PEM"));
  CHECK_THAT(message({{"HOTLINE_TLS_CA", c.P("garbage.pem")}}),
             Catch::StartsWith("HOTLINE_TLS_CA:"));
  auto no_key = LoadServerTlsConfig(FakeEnv({{"HOTLINE_TLS_CERT", c.P("server.crt")}}));
  REQUIRE_FALSE(no_key.ok());
  CHECK_THAT(std::string(no_key.status().message()), Catch::StartsWith("HOTLINE_TLS_KEY:"));
}

TEST_CASE("client TLS settings: flags over variables, a certificate needs its key") {
  SKIP_WITHOUT_OPENSSL();
  Certs c;
  REQUIRE(c.error.empty());

  auto env = ClientTlsFromEnv(FakeEnv({}));
  REQUIRE(env.ok());
  CHECK_FALSE(env->plaintext);  // TLS unless asked otherwise

  ClientTlsFlags flags;
  flags.cert = c.P("client.crt");
  auto half = ClientTlsFromEnvAndFlags(FakeEnv({}), flags);
  REQUIRE(half.ok());
  auto creds = MakeChannelCredentials(*half);
  REQUIRE_FALSE(creds.ok());
  CHECK_THAT(std::string(creds.status().message()), Catch::StartsWith("--tls-key"));

  flags.key = c.P("rogue.key");
  auto mismatch = MakeChannelCredentials(*ClientTlsFromEnvAndFlags(FakeEnv({}), flags));
  REQUIRE_FALSE(mismatch.ok());
  CHECK_THAT(std::string(mismatch.status().message()),
             Catch::StartsWith("--tls-key:") && Catch::Contains("does not match"));

  // A --tls-* flag turns TLS on over HOTLINE_GRPC_PLAINTEXT=1; --plaintext with one is an error.
  ClientTlsFlags ca_only;
  ca_only.ca = c.P("ca.crt");
  auto over = ClientTlsFromEnvAndFlags(FakeEnv({{"HOTLINE_GRPC_PLAINTEXT", "1"}}), ca_only);
  REQUIRE(over.ok());
  CHECK_FALSE(over->plaintext);
  CHECK(over->ca_path == c.P("ca.crt"));
  ca_only.plaintext = true;
  auto conflict = ClientTlsFromEnvAndFlags(FakeEnv({}), ca_only);
  REQUIRE_FALSE(conflict.ok());
  CHECK_THAT(std::string(conflict.status().message()),
             Catch::StartsWith("--plaintext: cannot be combined with --tls-ca"));
}

TEST_CASE("TLS: a client that trusts the CA reaches the service; plain text and strangers do not") {
  SKIP_WITHOUT_OPENSSL();
  const std::string addr = S().tls->grpc_addr();
  auto trusted = Health(addr, S().ca_flags);
  CHECK(trusted.first == 0);
  CHECK_THAT(trusted.second, Catch::Contains("SERVING"));
  // By name too: the certificate's DNS SAN, dialled by IP.
  CHECK(Health(addr, S().ca_flags + " --tls-server-name localhost").first == 0);

  auto plain = Health(addr, "--plaintext");
  CHECK(plain.first == 2);
  // Without --tls-ca the system's roots are used, which do not know the test CA.
  auto untrusted = Health(addr, "");
  CHECK(untrusted.first == 2);
  // A name the certificate does not carry.
  CHECK(Health(addr, S().ca_flags + " --tls-server-name intake.example").first == 2);
  // And the service is still up: the refusals were the handshakes, not a dead server.
  CHECK(Health(addr, S().ca_flags).first == 0);
}

TEST_CASE("mTLS: only clients with a certificate from the CA are let in") {
  SKIP_WITHOUT_OPENSSL();
  const std::string addr = S().mtls->grpc_addr();
  auto with_cert = Health(addr, S().client_flags);
  CHECK(with_cert.first == 0);
  CHECK_THAT(with_cert.second, Catch::Contains("SERVING"));

  auto without_cert = Health(addr, S().ca_flags);
  CHECK(without_cert.first == 2);
  CHECK_THAT(without_cert.second, !Catch::Contains("SERVING"));

  auto rogue = Health(addr, S().ca_flags + " --tls-cert " + S().certs.P("rogue.crt") +
                                " --tls-key " + S().certs.P("rogue.key"));
  CHECK(rogue.first == 2);
  CHECK_THAT(rogue.second, !Catch::Contains("SERVING"));

  CHECK(Health(addr, "--plaintext").first == 2);
  CHECK(Health(addr, S().client_flags).first == 0);
}

TEST_CASE("a service with a bad certificate path refuses to start, exit 2, naming the variable") {
  SKIP_WITHOUT_OPENSSL();
  TempDir dir;
  const std::string log = dir.path() + "/service.log";
  ChildProcess proc({HOTLINE_IVR_ROUTING_BIN}, log,
                    {"HOTLINE_GRPC_ADDR=127.0.0.1:" + std::to_string(FreePort()),
                     "HOTLINE_METRICS_ADDR=127.0.0.1:" + std::to_string(FreePort()),
                     "REDIS_URL=redis://127.0.0.1:" + std::to_string(S().redis.port()) + "/3",
                     "KAFKA_BROKERS=" + S().broker.bootstrap(), "HOTLINE_AUTH_DISABLED=1",
                     "HOTLINE_GRPC_PLAINTEXT=", "HOTLINE_TLS_CERT=" + dir.path() + "/no-such.crt",
                     "HOTLINE_TLS_KEY=" + S().certs.P("server.key")});
  REQUIRE(WaitFor([&] { return !proc.Running(); }, std::chrono::seconds(10)));
  int status = proc.Stop();
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_THAT(ReadFile(log), Catch::Contains("HOTLINE_TLS_CERT: cannot read"));

  // And without any certificate and without HOTLINE_GRPC_PLAINTEXT=1: no silent plain text.
  const std::string log2 = dir.path() + "/service2.log";
  ChildProcess bare({HOTLINE_IVR_ROUTING_BIN}, log2,
                    {"HOTLINE_GRPC_ADDR=127.0.0.1:" + std::to_string(FreePort()),
                     "HOTLINE_METRICS_ADDR=127.0.0.1:" + std::to_string(FreePort()),
                     "REDIS_URL=redis://127.0.0.1:" + std::to_string(S().redis.port()) + "/3",
                     "KAFKA_BROKERS=" + S().broker.bootstrap(), "HOTLINE_AUTH_DISABLED=1",
                     "HOTLINE_GRPC_PLAINTEXT=", "HOTLINE_TLS_CERT=", "HOTLINE_TLS_KEY="});
  REQUIRE(WaitFor([&] { return !bare.Running(); }, std::chrono::seconds(10)));
  int bare_status = bare.Stop();
  REQUIRE(WIFEXITED(bare_status));
  CHECK(WEXITSTATUS(bare_status) == 2);
  CHECK_THAT(ReadFile(log2), Catch::Contains("HOTLINE_TLS_CERT: required"));
}

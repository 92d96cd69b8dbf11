#include "tools/common/client_flags.h"

#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/config.h"

namespace hotline::flags {

void AddClientTlsFlags(FlagParser& parser, ClientTlsFlags* out) {
  parser.Bool("plaintext", &out->plaintext,
              "no TLS (for servers run with HOTLINE_GRPC_PLAINTEXT=1)");
  parser.String("tls-ca", &out->ca,
                "CA bundle file to verify the server (default $HOTLINE_TLS_CA, else the "
                "system's trusted roots)");
  parser.String("tls-cert", &out->cert,
                "client certificate file for mutual TLS (default $HOTLINE_TLS_CERT)");
  parser.String("tls-key", &out->key,
                "the client certificate's private key file (default $HOTLINE_TLS_KEY)");
  parser.String("tls-server-name", &out->server_name,
                "name expected in the server's certificate when it differs from the address "
                "(default $HOTLINE_TLS_SERVER_NAME)");
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ClientChannel(const std::string& target,
                                                             const ClientTlsFlags& flags) {
  auto tls = ClientTlsFromEnvAndFlags(EnvReader(), flags);
  if (!tls.ok()) return tls.status();
  return CreateClientChannel(target, *tls);
}

absl::StatusOr<int> ParseTimeoutMs(const std::string& source, const std::string& text) {
  int64_t ms = 0;
  if (!absl::SimpleAtoi(text, &ms) || ms < 1 || ms > kMaxTimeoutMs) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": '", text, "' is not a number of milliseconds in 1..", kMaxTimeoutMs));
  }
  return static_cast<int>(ms);
}

}  // namespace hotline::flags

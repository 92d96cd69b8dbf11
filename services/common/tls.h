#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/config.h"

namespace hotline {

// Transport security for gRPC (README "TLS"), from environment variables parsed once.
//
// The rule: gRPC is TLS unless plain text is chosen explicitly. A server without
// HOTLINE_TLS_CERT refuses to start unless HOTLINE_GRPC_PLAINTEXT=1 (the development and
// service-mesh mode, logged loudly like HOTLINE_AUTH_DISABLED). Setting both is an error, so a
// half-applied configuration cannot silently fall back to plain text. Files are read once at
// start-up: a renewed certificate takes effect on restart (a rolling restart in Kubernetes).
//
//   HOTLINE_GRPC_PLAINTEXT=1          plain-text gRPC (servers and clients)
//   HOTLINE_TLS_CERT, HOTLINE_TLS_KEY this process's certificate chain and key (PEM): the
//                                     server certificate, or a client's certificate for mTLS
//   HOTLINE_TLS_CA                    CA bundle (PEM): servers verify client certificates with
//                                     it, clients verify the server with it
//   HOTLINE_TLS_CLIENT_AUTH           none (default) | require: mutual TLS, a caller without a
//                                     certificate signed by HOTLINE_TLS_CA is refused
//   HOTLINE_TLS_SERVER_NAME           clients only: the name to expect in the server's
//                                     certificate when it differs from the address dialled

struct ServerTlsConfig {
  bool plaintext = false;
  bool require_client_cert = false;
  std::string cert_path, key_path, ca_path;
  // Contents, read and checked at load time (certificate parses, key matches it, CA parses).
  std::string cert_pem, key_pem, ca_pem;
};

// Reads and checks the server's TLS settings and files. Errors name the variable and the reason.
absl::StatusOr<ServerTlsConfig> LoadServerTlsConfig(const EnvReader& env);

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const ServerTlsConfig& config);

// LoadServerTlsConfig + MakeServerCredentials, logging which transport the server listens with
// (a loud warning for plain text). What RunService calls before AddListeningPort.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromEnv(
    const EnvReader& env);

struct ClientTlsOptions {
  bool plaintext = false;
  std::string ca_path;    // empty: the system's trusted roots
  std::string cert_path;  // with key_path: present a client certificate (mTLS)
  std::string key_path;
  std::string server_name;  // empty: the host of the target
  // Where each value came from, for error messages: a variable name or a tool's flag.
  std::string ca_source = "HOTLINE_TLS_CA";
  std::string cert_source = "HOTLINE_TLS_CERT";
  std::string key_source = "HOTLINE_TLS_KEY";
};

// The client's settings from the environment (HOTLINE_GRPC_PLAINTEXT, HOTLINE_TLS_CA,
// HOTLINE_TLS_CERT, HOTLINE_TLS_KEY, HOTLINE_TLS_SERVER_NAME). Tools overlay their flags.
absl::StatusOr<ClientTlsOptions> ClientTlsFromEnv(const EnvReader& env);

// A tool's command-line flags for the same settings; a flag wins over its variable.
struct ClientTlsFlags {
  bool plaintext = false;   // --plaintext
  std::string ca;           // --tls-ca
  std::string cert;         // --tls-cert
  std::string key;          // --tls-key
  std::string server_name;  // --tls-server-name
};

// ClientTlsFromEnv overlaid with `flags`. A --tls-* flag turns TLS on even when
// HOTLINE_GRPC_PLAINTEXT=1 is in the environment; --plaintext with a --tls-* flag is an error.
absl::StatusOr<ClientTlsOptions> ClientTlsFromEnvAndFlags(const EnvReader& env,
                                                          const ClientTlsFlags& flags);

// Reads the files named in `options` and builds credentials: insecure only when plaintext is
// set. A certificate without its key (or the reverse) is an error, not a silent anonymous call.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsOptions& options);

// A channel to `target` with MakeChannelCredentials and, if set, the expected server name.
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateClientChannel(
    const std::string& target, const ClientTlsOptions& options,
    grpc::ChannelArguments args = grpc::ChannelArguments());

}  // namespace hotline

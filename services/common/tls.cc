#include "services/common/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace hotline {
namespace {

// Owning wrappers so every early return frees what OpenSSL allocated.
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

BioPtr MemBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Refuses to prompt for a pass phrase on the terminal: an encrypted key is a config error.
int NoPassphrase(char*, int, int, void*) { return 0; }

absl::StatusOr<std::string> ReadPemFile(const std::string& source, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": cannot read '", path, "': ", std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses the first certificate of `pem`; with `check_expiry`, an expired one is an error too
// (it would only fail every handshake later, with a message far from its cause).
absl::StatusOr<X509Ptr> ParseCertificate(const std::string& source, const std::string& path,
                                         const std::string& pem, bool check_expiry) {
  BioPtr bio = MemBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!cert) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": '", path, "' holds no PEM certificate"));
  }
  if (check_expiry && X509_cmp_current_time(X509_get0_notAfter(cert.get())) <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": the certificate in '", path, "' has expired"));
  }
  return cert;
}

struct KeyPair {
  std::string cert_pem, key_pem;
};

// Reads a certificate chain and its private key, and checks that they belong together.
absl::StatusOr<KeyPair> LoadKeyPair(const std::string& cert_source, const std::string& cert_path,
                                    const std::string& key_source, const std::string& key_path) {
  auto cert_pem = ReadPemFile(cert_source, cert_path);
  if (!cert_pem.ok()) return cert_pem.status();
  auto cert = ParseCertificate(cert_source, cert_path, *cert_pem, /*check_expiry=*/true);
  if (!cert.ok()) return cert.status();
  auto key_pem = ReadPemFile(key_source, key_path);
  if (!key_pem.ok()) return key_pem.status();
  BioPtr bio = MemBio(*key_pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_source, ": '", key_path, "' holds no unencrypted PEM private key"));
  }
  int match = X509_check_private_key(cert->get(), key.get());
  ERR_clear_error();
  if (match != 1) {
    return absl::InvalidArgumentError(absl::StrCat(key_source, ": the key in '", key_path,
                                                   "' does not match the certificate in ",
                                                   cert_source, " ('", cert_path, "')"));
  }
  return KeyPair{*std::move(cert_pem), *std::move(key_pem)};
}

absl::StatusOr<std::string> LoadCa(const std::string& source, const std::string& path) {
  auto pem = ReadPemFile(source, path);
  if (!pem.ok()) return pem.status();
  // A CA bundle may hold an expired intermediate next to valid roots: only parse it.
  auto cert = ParseCertificate(source, path, *pem, /*check_expiry=*/false);
  if (!cert.ok()) return cert.status();
  return *std::move(pem);
}

// Plain text and any TLS setting at once is ambiguous; refuse rather than guess which one the
// operator meant (guessing "plain text" would be the dangerous choice).
absl::Status CheckNotBoth(bool plaintext, const std::string& cert, const std::string& key,
                          const std::string& ca, bool require) {
  if (!plaintext) return absl::OkStatus();
  const char* other = !cert.empty()  ? "HOTLINE_TLS_CERT"
                      : !key.empty() ? "HOTLINE_TLS_KEY"
                      : !ca.empty()  ? "HOTLINE_TLS_CA"
                      : require      ? "HOTLINE_TLS_CLIENT_AUTH=require"
                                     : nullptr;
  if (other == nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("HOTLINE_GRPC_PLAINTEXT: set together with ",
                                                 other, "; choose plain text or TLS"));
}

}  // namespace

absl::StatusOr<ServerTlsConfig> LoadServerTlsConfig(const EnvReader& env) {
  ServerTlsConfig c;
  auto plaintext = env.Bool("HOTLINE_GRPC_PLAINTEXT", false);
  if (!plaintext.ok()) return plaintext.status();
  c.plaintext = *plaintext;
  auto cert = env.String("HOTLINE_TLS_CERT", "");
  if (!cert.ok()) return cert.status();
  c.cert_path = *cert;
  auto key = env.String("HOTLINE_TLS_KEY", "");
  if (!key.ok()) return key.status();
  c.key_path = *key;
  auto ca = env.String("HOTLINE_TLS_CA", "");
  if (!ca.ok()) return ca.status();
  c.ca_path = *ca;
  auto auth = env.String("HOTLINE_TLS_CLIENT_AUTH", "none");
  if (!auth.ok()) return auth.status();
  std::string mode = absl::AsciiStrToLower(*auth);
  if (mode != "none" && mode != "require") {
    return absl::InvalidArgumentError(
        absl::StrCat("HOTLINE_TLS_CLIENT_AUTH: '", *auth, "' is not one of require, none"));
  }
  c.require_client_cert = mode == "require";
  if (auto s = CheckNotBoth(c.plaintext, c.cert_path, c.key_path, c.ca_path, c.require_client_cert);
      !s.ok()) {
    return s;
  }
  if (c.plaintext) return c;

  if (c.cert_path.empty()) {
    return absl::InvalidArgumentError(
        "HOTLINE_TLS_CERT: required (a PEM certificate for gRPC), or set "
        "HOTLINE_GRPC_PLAINTEXT=1 for development or behind a mesh that encrypts traffic");
  }
  if (c.key_path.empty()) {
    return absl::InvalidArgumentError("HOTLINE_TLS_KEY: required with HOTLINE_TLS_CERT");
  }
  if (c.require_client_cert && c.ca_path.empty()) {
    return absl::InvalidArgumentError(
        "HOTLINE_TLS_CA: required by HOTLINE_TLS_CLIENT_AUTH=require (the CA that signs "
        "client certificates)");
  }
  auto pair = LoadKeyPair("HOTLINE_TLS_CERT", c.cert_path, "HOTLINE_TLS_KEY", c.key_path);
  if (!pair.ok()) return pair.status();
  c.cert_pem = std::move(pair->cert_pem);
  c.key_pem = std::move(pair->key_pem);
  if (!c.ca_path.empty()) {
    auto ca_pem = LoadCa("HOTLINE_TLS_CA", c.ca_path);
    if (!ca_pem.ok()) return ca_pem.status();
    c.ca_pem = *std::move(ca_pem);
  }
  return c;
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const ServerTlsConfig& config) {
  if (config.plaintext) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions opts(
      config.require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                 : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  opts.pem_root_certs = config.ca_pem;
  opts.pem_key_cert_pairs.push_back({config.key_pem, config.cert_pem});
  return grpc::SslServerCredentials(opts);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromEnv(
    const EnvReader& env) {
  auto config = LoadServerTlsConfig(env);
  if (!config.ok()) return config.status();
  if (config->plaintext) {
    LogWarn(
        "gRPC IN PLAIN TEXT (HOTLINE_GRPC_PLAINTEXT=1): tokens and personal data cross the "
        "network unencrypted. Development, or behind a mesh that encrypts traffic, only.");
  } else {
    LogInfo("gRPC over TLS", {{"cert", config->cert_path},
                              {"client_auth", config->require_client_cert ? "require" : "none"}});
  }
  return MakeServerCredentials(*config);
}

absl::StatusOr<ClientTlsOptions> ClientTlsFromEnv(const EnvReader& env) {
  ClientTlsOptions o;
  auto plaintext = env.Bool("HOTLINE_GRPC_PLAINTEXT", false);
  if (!plaintext.ok()) return plaintext.status();
  o.plaintext = *plaintext;
  auto ca = env.String("HOTLINE_TLS_CA", "");
  if (!ca.ok()) return ca.status();
  o.ca_path = *ca;
  auto cert = env.String("HOTLINE_TLS_CERT", "");
  if (!cert.ok()) return cert.status();
  o.cert_path = *cert;
  auto key = env.String("HOTLINE_TLS_KEY", "");
  if (!key.ok()) return key.status();
  o.key_path = *key;
  auto name = env.String("HOTLINE_TLS_SERVER_NAME", "");
  if (!name.ok()) return name.status();
  o.server_name = *name;
  if (auto s = CheckNotBoth(o.plaintext, o.cert_path, o.key_path, o.ca_path, false); !s.ok()) {
    return s;
  }
  return o;
}

absl::StatusOr<ClientTlsOptions> ClientTlsFromEnvAndFlags(const EnvReader& env,
                                                          const ClientTlsFlags& flags) {
  auto o = ClientTlsFromEnv(env);
  if (!o.ok()) return o.status();
  const char* tls_flag = !flags.ca.empty()            ? "--tls-ca"
                         : !flags.cert.empty()        ? "--tls-cert"
                         : !flags.key.empty()         ? "--tls-key"
                         : !flags.server_name.empty() ? "--tls-server-name"
                                                      : nullptr;
  if (flags.plaintext && tls_flag != nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--plaintext: cannot be combined with ", tls_flag));
  }
  if (flags.plaintext) {
    ClientTlsOptions plain;
    plain.plaintext = true;
    return plain;
  }
  if (tls_flag != nullptr) o->plaintext = false;
  // A value still missing is asked for by both its names: the user may prefer either.
  if (o->cert_path.empty()) o->cert_source = "--tls-cert (or HOTLINE_TLS_CERT)";
  if (o->key_path.empty()) o->key_source = "--tls-key (or HOTLINE_TLS_KEY)";
  if (!flags.ca.empty()) {
    o->ca_path = flags.ca;
    o->ca_source = "--tls-ca";
  }
  if (!flags.cert.empty()) {
    o->cert_path = flags.cert;
    o->cert_source = "--tls-cert";
  }
  if (!flags.key.empty()) {
    o->key_path = flags.key;
    o->key_source = "--tls-key";
  }
  if (!flags.server_name.empty()) o->server_name = flags.server_name;
  return o;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsOptions& options) {
  if (options.plaintext) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!options.ca_path.empty()) {
    auto ca = LoadCa(options.ca_source, options.ca_path);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (options.cert_path.empty() != options.key_path.empty()) {
    const std::string& missing =
        options.cert_path.empty() ? options.cert_source : options.key_source;
    const std::string& given = options.cert_path.empty() ? options.key_source : options.cert_source;
    return absl::InvalidArgumentError(
        absl::StrCat(missing, ": required with ", given, " (a client certificate and its key)"));
  }
  if (!options.cert_path.empty()) {
    auto pair =
        LoadKeyPair(options.cert_source, options.cert_path, options.key_source, options.key_path);
    if (!pair.ok()) return pair.status();
    ssl.pem_cert_chain = std::move(pair->cert_pem);
    ssl.pem_private_key = std::move(pair->key_pem);
  }
  return grpc::SslCredentials(ssl);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateClientChannel(const std::string& target,
                                                                   const ClientTlsOptions& options,
                                                                   grpc::ChannelArguments args) {
  auto creds = MakeChannelCredentials(options);
  if (!creds.ok()) return creds.status();
  if (!options.plaintext && !options.server_name.empty()) {
    args.SetSslTargetNameOverride(options.server_name);
  }
  return grpc::CreateCustomChannel(target, *creds, args);
}

}  // namespace hotline

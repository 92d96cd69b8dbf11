#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/tls.h"
#include "tools/common/flags.h"

namespace hotline::flags {

// The command line every gRPC client tool (hotline-health, hotlinectl) shares, in one place: the
// TLS flags, the channel they configure, and the call deadline.

// Declares --plaintext, --tls-ca, --tls-cert, --tls-key and --tls-server-name on `parser`,
// writing into `*out` (which must outlive the parse). The environment's HOTLINE_TLS_* and
// HOTLINE_GRPC_PLAINTEXT are the defaults; ClientChannel applies that rule.
void AddClientTlsFlags(FlagParser& parser, ClientTlsFlags* out);

// A channel to `target` with the environment's TLS settings overlaid with `flags`
// (ClientTlsFromEnvAndFlags, then CreateClientChannel). INVALID_ARGUMENT naming the flag or
// variable on a bad combination or an unreadable file.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ClientChannel(const std::string& target,
                                                             const ClientTlsFlags& flags);

// The deadline of a call, from a flag or a positional argument named `source` (e.g.
// "--timeout-ms"): milliseconds in 1..kMaxTimeoutMs, else INVALID_ARGUMENT
// "<source>: '<text>' is not a number of milliseconds in 1..600000".
inline constexpr int kMaxTimeoutMs = 600000;
absl::StatusOr<int> ParseTimeoutMs(const std::string& source, const std::string& text);

}  // namespace hotline::flags

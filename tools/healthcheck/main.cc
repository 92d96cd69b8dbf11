// hotline-health: asks a gRPC server's standard health service (grpc.health.v1) whether it is
// SERVING. Exit 0 when it is, 1 when it answers anything else, 2 when it cannot be reached or
// the command line is wrong. The launcher, the tests and the chart's probe (with TLS on, where
// the kubelet's own gRPC probe cannot speak TLS) use it.
//
// The request and response are encoded by hand (one string field, one enum field) so the tool
// needs no copy of Google's health.proto.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include "tools/common/client_flags.h"
#include "tools/common/flags.h"

namespace {

grpc::ByteBuffer Encode(const std::string& service) {
  std::string bytes;
  if (!service.empty() && service.size() < 128) {  // field 1, length-delimited, 1-byte length
    bytes.push_back(0x0A);
    bytes.push_back(static_cast<char>(service.size()));
    bytes += service;
  }
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

int DecodeStatus(const grpc::ByteBuffer& buf) {
  std::vector<grpc::Slice> slices;
  if (!buf.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  // Field 1 varint: 0x08 then the value (0..3 fit in one byte). Absent field means UNKNOWN (0).
  if (bytes.size() >= 2 && bytes[0] == 0x08) return static_cast<unsigned char>(bytes[1]);
  return 0;
}

constexpr char kProgram[] = "hotline-health";

struct Args {
  std::string target;
  std::string service;
  int timeout_ms = 2000;
  hotline::ClientTlsFlags tls;
};

// Parses argv strictly (tools/common/flags): an unknown flag, a flag without its value or a
// malformed number is an error naming the flag. The positional form `HOST:PORT [SERVICE]
// [TIMEOUT_MS]` is older than the flags and stays, for hotline-up and existing probes. Returns -1
// to go on, else the exit code.
int Parse(int argc, char** argv, Args* out) {
  namespace flags = hotline::flags;
  flags::FlagParser p(
      "hotline-health [FLAGS] HOST:PORT [SERVICE] [TIMEOUT_MS]\n"
      "Asks the gRPC health service of HOST:PORT whether SERVICE (default: the whole\n"
      "server) is SERVING. Exit 0: SERVING; 1: another status; 2: unreachable or bad usage.\n"
      "gRPC is TLS unless --plaintext or HOTLINE_GRPC_PLAINTEXT=1.\n"
      "flags:");
  std::string timeout_text;
  p.String("service", &out->service, "same as SERVICE");
  p.String("timeout-ms", &timeout_text, "deadline in milliseconds, 1..600000 (default 2000)");
  flags::AddClientTlsFlags(p, &out->tls);
  // An empty value here is an unset shell variable in a probe, not a choice.
  p.RejectEmptyValues();
  p.set_unknown_flag_wording(flags::FlagParser::UnknownFlagWording::kReasonFirst);
  if (int rc = flags::ParseArgs(p, kProgram, argc, argv); rc >= 0) return rc;

  const std::vector<std::string>& positional = p.positional();
  if (positional.empty()) return flags::UsageError(kProgram, "HOST:PORT is required");
  if (positional.size() > 3) return flags::UsageError(kProgram, "too many arguments");
  out->target = positional[0];
  if (positional.size() >= 2) {
    if (p.seen("service"))
      return flags::UsageError(kProgram, "--service: given twice (flag and SERVICE)");
    out->service = positional[1];
  }
  std::string timeout_source = p.seen("timeout-ms") ? "--timeout-ms" : "";
  if (positional.size() == 3) {
    if (!timeout_source.empty())
      return flags::UsageError(kProgram, "--timeout-ms: given twice (flag and TIMEOUT_MS)");
    timeout_text = positional[2];
    timeout_source = "TIMEOUT_MS";
  }
  if (!timeout_text.empty()) {
    auto ms = flags::ParseTimeoutMs(timeout_source, timeout_text);
    if (!ms.ok()) return flags::UsageError(kProgram, ms.status().message());
    out->timeout_ms = *ms;
  }
  // Encode() writes the name's length in one byte.
  if (out->service.size() >= 128)
    return flags::UsageError(kProgram, "--service: longer than 127 bytes");
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (int rc = Parse(argc, argv, &args); rc >= 0) return rc;
  auto channel = hotline::flags::ClientChannel(args.target, args.tls);
  if (!channel.ok()) return hotline::flags::UsageError(kProgram, channel.status().message());
  grpc::GenericStub stub(*channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(args.timeout_ms));
  grpc::ByteBuffer response;
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  const grpc::ByteBuffer request = Encode(args.service);
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   done = true;
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  if (!status.ok()) {
    std::cerr << args.target << ": " << status.error_message() << "\n";
    return 2;
  }
  static const char* kNames[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
  int s = DecodeStatus(response);
  std::cout << args.target << ": " << (s >= 0 && s <= 3 ? kNames[s] : "UNDECODABLE") << "\n";
  return s == 1 ? 0 : 1;
}

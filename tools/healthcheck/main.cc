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
#include <cstdint>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "services/common/config.h"
#include "services/common/tls.h"

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

void PrintUsage(std::ostream& out) {
  out << "usage: hotline-health [FLAGS] HOST:PORT [SERVICE] [TIMEOUT_MS]\n"
         "Asks the gRPC health service of HOST:PORT whether SERVICE (default: the whole\n"
         "server) is SERVING. Exit 0: SERVING; 1: another status; 2: unreachable or bad usage.\n"
         "gRPC is TLS unless --plaintext or HOTLINE_GRPC_PLAINTEXT=1.\n\n"
         "  --service NAME          same as SERVICE\n"
         "  --timeout-ms N          deadline in milliseconds, 1..600000 (default 2000)\n"
      << hotline::kClientTlsFlagsUsage << "  -h, --help              this text\n";
}

int BadUsage(const std::string& message) {
  std::cerr << "hotline-health: " << message << " (see --help)\n";
  return 2;
}

struct Args {
  std::string target;
  std::string service;
  int timeout_ms = 2000;
  hotline::ClientTlsFlags tls;
};

// Parses argv strictly: an unknown flag, a flag without its value or a malformed number is an
// error naming the flag. Returns -1 to go on, else the exit code.
int Parse(int argc, char** argv, Args* out) {
  std::vector<std::string> positional;
  std::string timeout_text, timeout_source;
  bool service_flag = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      PrintUsage(std::cout);
      return 0;
    }
    if (a == "--") {
      for (++i; i < argc; ++i) positional.push_back(argv[i]);
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      positional.push_back(a);
      continue;
    }
    std::string name = a, value;
    bool has_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    if (name == "--plaintext") {
      if (has_value) return BadUsage("--plaintext: takes no value");
      out->tls.plaintext = true;
      continue;
    }
    std::string* dest = name == "--service"           ? &out->service
                        : name == "--timeout-ms"      ? &timeout_text
                        : name == "--tls-ca"          ? &out->tls.ca
                        : name == "--tls-cert"        ? &out->tls.cert
                        : name == "--tls-key"         ? &out->tls.key
                        : name == "--tls-server-name" ? &out->tls.server_name
                                                      : nullptr;
    if (dest == nullptr) return BadUsage("unknown flag " + name);
    if (!has_value) {
      if (i + 1 >= argc) return BadUsage(name + ": needs a value");
      value = argv[++i];
    }
    if (value.empty()) return BadUsage(name + ": needs a non-empty value");
    *dest = value;
    if (name == "--service") service_flag = true;
    if (name == "--timeout-ms") timeout_source = "--timeout-ms";
  }
  if (positional.empty()) return BadUsage("HOST:PORT is required");
  if (positional.size() > 3) return BadUsage("too many arguments");
  out->target = positional[0];
  if (positional.size() >= 2) {
    if (service_flag) return BadUsage("--service: given twice (flag and SERVICE)");
    out->service = positional[1];
  }
  if (positional.size() == 3) {
    if (!timeout_source.empty()) return BadUsage("--timeout-ms: given twice (flag and TIMEOUT_MS)");
    timeout_text = positional[2];
    timeout_source = "TIMEOUT_MS";
  }
  if (!timeout_text.empty()) {
    int64_t ms = 0;
    if (!absl::SimpleAtoi(timeout_text, &ms) || ms < 1 || ms > 600000) {
      return BadUsage(timeout_source + ": '" + timeout_text +
                      "' is not a number of milliseconds in 1..600000");
    }
    out->timeout_ms = static_cast<int>(ms);
  }
  // Encode() writes the name's length in one byte.
  if (out->service.size() >= 128) return BadUsage("--service: longer than 127 bytes");
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (int rc = Parse(argc, argv, &args); rc >= 0) return rc;
  auto tls = hotline::ClientTlsFromEnvAndFlags(hotline::EnvReader(), args.tls);
  if (!tls.ok()) return BadUsage(std::string(tls.status().message()));
  auto channel = hotline::CreateClientChannel(args.target, *tls);
  if (!channel.ok()) return BadUsage(std::string(channel.status().message()));
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

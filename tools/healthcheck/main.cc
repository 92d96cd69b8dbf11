// hotline-health: asks a gRPC server's standard health service (grpc.health.v1) whether it is
// SERVING. Exit 0 when it is, 1 when it answers anything else, 2 when it cannot be reached.
// The launcher and the tests use it; in Kubernetes the kubelet's own gRPC probe does this.
//
// The request and response are encoded by hand (one string field, one enum field) so the tool
// needs no copy of Google's health.proto.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>
#include <cstdlib>
#include <iostream>
#include <string>

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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::cerr << "usage: hotline-health HOST:PORT [SERVICE] [TIMEOUT_MS]\n";
    return 2;
  }
  const std::string target = argv[1];
  const std::string service = argc >= 3 ? argv[2] : "";
  const int timeout_ms = argc >= 4 ? std::atoi(argv[3]) : 2000;
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  grpc::ByteBuffer response;
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  const grpc::ByteBuffer request = Encode(service);
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   done = true;
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  if (!status.ok()) {
    std::cerr << target << ": " << status.error_message() << "\n";
    return 2;
  }
  static const char* kNames[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
  int s = DecodeStatus(response);
  std::cout << target << ": " << (s >= 0 && s <= 3 ? kNames[s] : "UNDECODABLE") << "\n";
  return s == 1 ? 0 : 1;
}

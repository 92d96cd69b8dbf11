#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "hotline/v1/common.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/common/api_policy.h"
#include "services/common/auth.h"
#include "services/common/executor.h"

namespace hotline {

// What a handler knows about its call once the gate let it through.
struct Caller {
  Principal principal;
  std::string department;   // acted for (see MethodRule::department_field)
  std::string traceparent;  // the caller's W3C traceparent if well-formed, else ""
  std::string request_id;   // on every log line of the call and in INTERNAL messages
};

// A page of a listing: where to start and how many. Tokens are opaque to clients.
struct Page {
  uint64_t offset = 0;
  size_t size = 0;
};
// Reads `page` (size clamped to [1, max_size], default when 0). INVALID_ARGUMENT naming
// "page.page_token" when the token is not one this API issued.
absl::StatusOr<Page> ReadPage(const v1::PageRequest& page, size_t default_size, size_t max_size);
// The token for the page after `page` (call when more items exist).
std::string NextPageToken(const Page& page);

// The handler of an RPC that is declared but not built yet: the gate still authenticates,
// authorizes and bounds the call first.
inline absl::Status NotBuiltYet(const Caller&) {
  return absl::UnimplementedError("this RPC is declared but not built yet");
}

// Moves a result into the response field on success; the status either way.
template <typename T>
absl::Status Fill(absl::StatusOr<T> result, T* out) {
  if (result.ok()) *out = std::move(*result);
  return result.status();
}

// The status a client sees. Our own messages (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED...)
// pass unchanged; backend failures (INTERNAL, UNKNOWN, DATA_LOSS, ABORTED, UNAVAILABLE) become a
// generic message with the request id, so no Redis or Kafka text reaches a client.
grpc::Status ClientStatus(const absl::Status& s, const std::string& request_id);

struct RpcOptions {
  size_t threads = 8;           // HOTLINE_RPC_THREADS: handler workers (Redis work runs here)
  size_t queue_capacity = 256;  // HOTLINE_RPC_QUEUE: calls waiting for a worker before refusal
};

// The one call helper every gRPC handler goes through (DESIGN.md house style 4–5): bearer-token
// authentication, the service's authorization table (default deny), input limits, traceparent,
// readiness (a service whose Redis is not answering fails fast with UNAVAILABLE), a bounded
// executor (RESOURCE_EXHAUSTED at once when full), status mapping, latency and error metrics
// (hotline_grpc_server_*) and the audit log. One per process, shared by its gRPC services.
class RpcCore {
 public:
  RpcCore(const Authenticator* auth, prometheus::Registry& registry, RpcOptions options);
  ~RpcCore();

  // The service's readiness, set by the health loop; calls are refused while false.
  void SetReady(bool ready, std::string why);
  bool ready() const { return ready_.load(); }
  BoundedExecutor& executor() { return *executor_; }

  // Admission for a call of `method` ("Service/Method") with `request` under `policy`: the
  // caller, or the status to finish the call with. Streaming handlers use this directly.
  absl::StatusOr<Caller> Admit(grpc::CallbackServerContext* ctx, const ApiPolicy& policy,
                               const std::string& method, const google::protobuf::Message& request);

  using Handler = std::function<absl::Status(const Caller&)>;
  // A unary call: admission, then `handler` on the executor, then Finish with the mapped status.
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, const ApiPolicy& policy,
                                  const std::string& method,
                                  const google::protobuf::Message& request, Handler handler);

  // A unary call whose request arrives as bytes: UNAUTHENTICATED before anything is parsed,
  // INVALID_ARGUMENT when the bytes are not a `Req`, then as Unary; the response is serialized
  // back into `out` on success.
  template <typename Req, typename Resp>
  grpc::ServerUnaryReactor* UnaryBytes(
      grpc::CallbackServerContext* ctx, const ApiPolicy& policy, const std::string& method,
      const grpc::ByteBuffer* in, grpc::ByteBuffer* out,
      const std::function<absl::Status(const Caller&, const Req*, Resp*)>& handler) {
    struct Call {
      Req req;
      Resp resp;
    };
    auto call = std::make_shared<Call>();
    if (auto refused = ParseOrRefuse(ctx, method, in, &call->req)) return refused;
    return Unary(ctx, policy, method, call->req, [call, out, handler](const Caller& c) {
      absl::Status s = handler(c, &call->req, &call->resp);
      if (s.ok()) SerializeTo(call->resp, out);
      return s;
    });
  }

  // Metrics, failure and audit logs for a finished call; the status to send. `from_handler`:
  // the status came from a handler (backend text is replaced, see ClientStatus), not the gate.
  grpc::Status Finished(const std::string& method, const Caller* caller, const MethodRule* rule,
                        const google::protobuf::Message& request, const absl::Status& status,
                        double seconds, bool from_handler);

 private:
  // Authenticates, then parses `in` into `req`; on failure finishes the call and returns its
  // reactor, else null.
  grpc::ServerUnaryReactor* ParseOrRefuse(grpc::CallbackServerContext* ctx,
                                          const std::string& method, const grpc::ByteBuffer* in,
                                          google::protobuf::Message* req);
  static void SerializeTo(const google::protobuf::Message& m, grpc::ByteBuffer* out);

  const Authenticator* auth_;
  std::unique_ptr<BoundedExecutor> executor_;
  std::atomic<bool> ready_{false};
  std::shared_ptr<const std::string> not_ready_why_;
  prometheus::Family<prometheus::Counter>* started_;
  prometheus::Family<prometheus::Counter>* handled_;
  prometheus::Family<prometheus::Histogram>* latency_;
  prometheus::Counter* rejected_busy_;
  prometheus::Family<prometheus::Gauge>* executor_gauge_;
};

// Serves the unary methods of a generated CallbackService through the gate: a service derives
// from GatedService<v1::X::CallbackService> and adds one handler per RPC in its constructor.
// Requests are taken as bytes so that one that does not parse is INVALID_ARGUMENT (gRPC's typed
// handler answers UNIMPLEMENTED with no message); reflection still sees the typed service.
template <typename Base>
class GatedService : public Base {
 protected:
  GatedService(RpcCore* rpc, const ApiPolicy* policy) : rpc_(rpc), policy_(policy) {}

  // `method` is "Service/Method" as in the ApiPolicy; `handler` is
  // absl::Status(const Caller&, const Req*, Resp*), run on the gate's workers. Crashes at
  // start-up when the method does not exist or its types differ: a programming error.
  template <typename F>
  void Handle(const std::string& method, F handler) {
    HandleTyped(method, std::function(std::move(handler)));
  }

 private:
  template <typename Req, typename Resp>
  void HandleTyped(const std::string& method,
                   std::function<absl::Status(const Caller&, const Req*, Resp*)> handler) {
    const std::string full = "hotline.v1." + method.substr(0, method.find('/')) + "." +
                             method.substr(method.find('/') + 1);
    const auto* md = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full);
    GPR_ASSERT(md != nullptr && md->input_type() == Req::descriptor() &&
               md->output_type() == Resp::descriptor());
    RpcCore* rpc = rpc_;
    const ApiPolicy* policy = policy_;
    this->MarkMethodRawCallback(
        md->index(),
        new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
            [rpc, policy, method, handler = std::move(handler)](grpc::CallbackServerContext* ctx,
                                                                const grpc::ByteBuffer* in,
                                                                grpc::ByteBuffer* out) {
              return rpc->UnaryBytes<Req, Resp>(ctx, *policy, method, in, out, handler);
            }));
  }

 protected:
  RpcCore* rpc_;
  const ApiPolicy* policy_;
};

// The service name of a method key ("IntakeService/SubmitRequest" → "IntakeService").
std::string ServiceOf(const std::string& method);

}  // namespace hotline

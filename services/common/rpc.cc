#include "services/common/rpc.h"

#include <chrono>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/gauge.h"
#include "services/common/log.h"

namespace hotline {
namespace {

constexpr char kPagePrefix[] = "p1:";
constexpr uint64_t kMaxOffset = 100'000'000;

const char* CodeName(absl::StatusCode c) {
  switch (c) {
    case absl::StatusCode::kOk:
      return "OK";
    case absl::StatusCode::kCancelled:
      return "CANCELLED";
    case absl::StatusCode::kUnknown:
      return "UNKNOWN";
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case absl::StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kAborted:
      return "ABORTED";
    case absl::StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case absl::StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case absl::StatusCode::kInternal:
      return "INTERNAL";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kDataLoss:
      return "DATA_LOSS";
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

bool IsBackendFailure(absl::StatusCode c) {
  return c == absl::StatusCode::kInternal || c == absl::StatusCode::kUnknown ||
         c == absl::StatusCode::kDataLoss || c == absl::StatusCode::kAborted ||
         c == absl::StatusCode::kUnavailable || c == absl::StatusCode::kDeadlineExceeded;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrFormat("%016x", rng());
}

std::string Metadata(const grpc::CallbackServerContext* ctx, const char* key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(key);
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

}  // namespace

std::string ServiceOf(const std::string& method) { return method.substr(0, method.find('/')); }

absl::StatusOr<Page> ReadPage(const v1::PageRequest& page, size_t default_size, size_t max_size) {
  Page p;
  p.size = page.page_size() <= 0 ? default_size
                                 : std::min(static_cast<size_t>(page.page_size()), max_size);
  if (page.page_token().empty()) return p;
  std::string raw;
  if (!absl::WebSafeBase64Unescape(page.page_token(), &raw) || raw.rfind(kPagePrefix, 0) != 0 ||
      !absl::SimpleAtoi(absl::string_view(raw).substr(sizeof(kPagePrefix) - 1), &p.offset) ||
      p.offset > kMaxOffset) {
    return absl::InvalidArgumentError("page.page_token: not a token this API issued");
  }
  return p;
}

std::string NextPageToken(const Page& page) {
  return absl::WebSafeBase64Escape(absl::StrCat(kPagePrefix, page.offset + page.size));
}

grpc::Status ClientStatus(const absl::Status& s, const std::string& request_id) {
  if (s.ok()) return grpc::Status::OK;
  auto code = static_cast<grpc::StatusCode>(s.code());
  if (s.code() == absl::StatusCode::kUnavailable) {
    return grpc::Status(
        code,
        absl::StrCat("service temporarily unavailable; retry later (request id ", request_id, ")"));
  }
  if (IsBackendFailure(s.code())) {
    return grpc::Status(code, absl::StrCat("internal error (request id ", request_id, ")"));
  }
  return grpc::Status(code, std::string(s.message()));
}

RpcCore::RpcCore(const Authenticator* auth, prometheus::Registry& registry, RpcOptions options)
    : auth_(auth),
      executor_(std::make_unique<BoundedExecutor>(options.threads, options.queue_capacity)),
      not_ready_why_(std::make_shared<const std::string>("starting")) {
  started_ = &prometheus::BuildCounter()
                  .Name("hotline_grpc_server_started_total")
                  .Help("gRPC calls started, by service and method")
                  .Register(registry);
  handled_ = &prometheus::BuildCounter()
                  .Name("hotline_grpc_server_handled_total")
                  .Help("gRPC calls finished, by service, method and status code")
                  .Register(registry);
  latency_ = &prometheus::BuildHistogram()
                  .Name("hotline_grpc_server_handling_seconds")
                  .Help("Time from a call's arrival to its status, by service and method")
                  .Register(registry);
  rejected_busy_ =
      &prometheus::BuildCounter()
           .Name("hotline_grpc_server_rejected_busy_total")
           .Help("Calls refused with RESOURCE_EXHAUSTED because the handler queue was full")
           .Register(registry)
           .Add({});
  executor_gauge_ = &prometheus::BuildGauge()
                         .Name("hotline_grpc_server_queued_calls")
                         .Help("Calls waiting for a handler worker")
                         .Register(registry);
}

RpcCore::~RpcCore() = default;

void RpcCore::SetReady(bool ready, std::string why) {
  std::atomic_store(&not_ready_why_, std::make_shared<const std::string>(std::move(why)));
  ready_.store(ready);
}

absl::StatusOr<Caller> RpcCore::Admit(grpc::CallbackServerContext* ctx, const ApiPolicy& policy,
                                      const std::string& method,
                                      const google::protobuf::Message& request) {
  Caller c;
  c.request_id = NewRequestId();
  c.traceparent = ValidTraceparent(Metadata(ctx, "traceparent"));
  auto principal = auth_->Authenticate(ctx);
  if (!principal.ok()) return principal.status();
  auto access = CheckAccess(policy, method, *principal, request);
  if (!access.ok()) return access.status();
  c.principal = std::move(access->principal);
  c.department = std::move(access->department);
  if (auto s = CheckLimits(policy, request); !s.ok()) return s;
  if (!ready_.load()) {
    auto why = std::atomic_load(&not_ready_why_);
    return absl::UnavailableError(absl::StrCat("not ready: ", *why));
  }
  return c;
}

grpc::Status RpcCore::Finished(const std::string& method, const Caller* caller,
                               const MethodRule* rule, const google::protobuf::Message& request,
                               const absl::Status& status, double seconds, bool from_handler) {
  const std::string service = ServiceOf(method);
  const std::string name = method.substr(method.find('/') + 1);
  const std::string request_id = caller != nullptr ? caller->request_id : NewRequestId();
  handled_
      ->Add({{"grpc_service", service},
             {"grpc_method", name},
             {"grpc_code", CodeName(status.code())}})
      .Increment();
  latency_
      ->Add({{"grpc_service", service}, {"grpc_method", name}},
            prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                    0.1, 0.25, 0.5, 1, 2.5, 5})
      .Observe(seconds);
  if (IsBackendFailure(status.code())) {
    LogWarn("call failed", {{"method", method},
                            {"request_id", request_id},
                            {"code", CodeName(status.code())},
                            {"error", std::string(status.message())}});
  }
  if (rule != nullptr && rule->audit && caller != nullptr) {
    std::string ticket = StringField(request, "ticket_id");
    if (ticket.empty()) ticket = StringField(request, "ticket_number");
    LogInfo("audit", {{"method", method},
                      {"principal", caller->principal.name},
                      {"role", RoleName(caller->principal.role)},
                      {"department", caller->department},
                      {"ticket", ticket},
                      {"code", CodeName(status.code())},
                      {"request_id", request_id}});
  }
  if (!from_handler) {  // the gate's own refusals: their messages are ours, with no backend text
    return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                        std::string(status.message()));
  }
  return ClientStatus(status, request_id);
}

grpc::ServerUnaryReactor* RpcCore::ParseOrRefuse(grpc::CallbackServerContext* ctx,
                                                 const std::string& method,
                                                 const grpc::ByteBuffer* in,
                                                 google::protobuf::Message* req) {
  absl::Status refused;
  if (auto p = auth_->Authenticate(ctx); !p.ok()) {
    refused = p.status();
  } else {
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (in->Dump(&slices).ok()) {
      for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    if (!req->ParseFromString(bytes)) {
      refused = absl::InvalidArgumentError(
          absl::StrCat("request: not a valid ", req->GetDescriptor()->full_name(), " message"));
    }
  }
  if (refused.ok()) return nullptr;
  started_
      ->Add({{"grpc_service", ServiceOf(method)},
             {"grpc_method", method.substr(method.find('/') + 1)}})
      .Increment();
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(Finished(method, nullptr, nullptr, *req, refused, 0, /*from_handler=*/false));
  return reactor;
}

void RpcCore::SerializeTo(const google::protobuf::Message& m, grpc::ByteBuffer* out) {
  std::string bytes = m.SerializeAsString();
  grpc::Slice slice(std::move(bytes));
  *out = grpc::ByteBuffer(&slice, 1);
}

grpc::ServerUnaryReactor* RpcCore::Unary(grpc::CallbackServerContext* ctx, const ApiPolicy& policy,
                                         const std::string& method,
                                         const google::protobuf::Message& request,
                                         Handler handler) {
  const auto start = std::chrono::steady_clock::now();
  const std::string service = ServiceOf(method);
  started_->Add({{"grpc_service", service}, {"grpc_method", method.substr(method.find('/') + 1)}})
      .Increment();
  auto* reactor = ctx->DefaultReactor();
  auto it = policy.methods.find(method);
  const MethodRule* rule = it == policy.methods.end() ? nullptr : &it->second;
  auto elapsed = [start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto caller = Admit(ctx, policy, method, request);
  if (!caller.ok()) {
    ScopedTrace trace(ValidTraceparent(Metadata(ctx, "traceparent")));
    reactor->Finish(Finished(method, nullptr, nullptr, request, caller.status(), elapsed(),
                             /*from_handler=*/false));
    return reactor;
  }
  auto shared = std::make_shared<Caller>(std::move(*caller));
  const google::protobuf::Message* req = &request;  // lives until the reactor finishes
  bool queued = executor_->TrySubmit(
      [this, reactor, shared, rule, method, req, handler = std::move(handler), elapsed] {
        ScopedTrace trace(shared->traceparent);
        absl::Status s = handler(*shared);
        reactor->Finish(
            Finished(method, shared.get(), rule, *req, s, elapsed(), /*from_handler=*/true));
      });
  executor_gauge_->Add({}).Set(static_cast<double>(executor_->queued()));
  if (!queued) {
    rejected_busy_->Increment();
    reactor->Finish(
        Finished(method, shared.get(), nullptr, request,
                 absl::ResourceExhaustedError("server busy: too many calls in progress; "
                                              "retry with backoff"),
                 elapsed(), /*from_handler=*/false));
  }
  return reactor;
}

}  // namespace hotline

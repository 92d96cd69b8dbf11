#include "services/intake/intake_service.h"

#include <chrono>

#include "services/common/grpc_status.h"
#include "services/common/log.h"

namespace hotline::intake {
namespace {

// Times one call and finishes its reactor with `status`.
class Call {
 public:
  Call(grpc::CallbackServerContext* ctx, IntakeMetrics* m, const char* method)
      : ctx_(ctx), metrics_(m), method_(method), start_(std::chrono::steady_clock::now()),
        trace_(Traceparent(ctx)) {}
  grpc::ServerUnaryReactor* Finish(const absl::Status& status) {
    metrics_->ObserveLatency(
        method_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    if (!status.ok() && !absl::IsInvalidArgument(status) && !absl::IsNotFound(status) &&
        !absl::IsFailedPrecondition(status)) {
      LogWarn("intake call failed", {{"method", method_}, {"error", std::string(status.message())}});
    }
    auto* r = ctx_->DefaultReactor();
    r->Finish(ToGrpcStatus(status));
    return r;
  }

 private:
  grpc::CallbackServerContext* ctx_;
  IntakeMetrics* metrics_;
  const char* method_;
  std::chrono::steady_clock::time_point start_;
  ScopedTrace trace_;  // the caller's traceparent on this call's log lines
};

const std::set<Role> kFrontDoor = {Role::kChannel, Role::kCallTaker, Role::kSupervisor, Role::kService};
const std::set<Role> kOperators = {Role::kCallTaker, Role::kDispatcher, Role::kSupervisor, Role::kService,
                                   Role::kAnalyst};

}  // namespace

std::string Traceparent(const grpc::CallbackServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("traceparent");
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

grpc::ServerUnaryReactor* IntakeServiceImpl::SubmitRequest(grpc::CallbackServerContext* ctx,
                                                           const v1::SubmitRequestRequest* req,
                                                           v1::SubmitRequestResponse* resp) {
  Call call(ctx, metrics_, "SubmitRequest");
  if (auto a = auth_->Authorize(ctx, kFrontDoor); !a.ok()) return call.Finish(a.status());
  auto r = core_->Submit(*req, Traceparent(ctx));
  if (!r.ok()) {
    metrics_->CountSubmission(req->channel(), req->type_hint(),
                              absl::IsInvalidArgument(r.status()) ? "rejected" : "failed");
    return call.Finish(r.status());
  }
  *resp = std::move(r->response);
  metrics_->CountSubmission(resp->ticket().channel(), resp->ticket().type(),
                            OutcomeLabel(resp->outcome(), resp->replayed()));
  return call.Finish(absl::OkStatus());
}

grpc::ServerUnaryReactor* IntakeServiceImpl::GetTicket(grpc::CallbackServerContext* ctx,
                                                       const v1::GetTicketRequest* req,
                                                       v1::GetTicketResponse* resp) {
  Call call(ctx, metrics_, "GetTicket");
  if (auto a = auth_->Authorize(ctx, kOperators); !a.ok()) return call.Finish(a.status());
  auto t = core_->Get(req->ticket_id());
  if (t.ok()) *resp->mutable_ticket() = std::move(*t);
  return call.Finish(t.status());
}

grpc::ServerUnaryReactor* IntakeServiceImpl::TrackTicket(grpc::CallbackServerContext* ctx,
                                                         const v1::TrackTicketRequest* req,
                                                         v1::TrackTicketResponse* resp) {
  Call call(ctx, metrics_, "TrackTicket");
  if (auto a = auth_->Authorize(ctx, kFrontDoor); !a.ok()) return call.Finish(a.status());
  auto t = core_->Track(req->ticket_number(), req->verification_code());
  if (t.ok()) *resp->mutable_ticket() = std::move(*t);
  return call.Finish(t.status());
}

grpc::ServerUnaryReactor* IntakeServiceImpl::ListCitizenTickets(
    grpc::CallbackServerContext* ctx, const v1::ListCitizenTicketsRequest* req,
    v1::ListCitizenTicketsResponse* resp) {
  Call call(ctx, metrics_, "ListCitizenTickets");
  if (auto a = auth_->Authorize(ctx, kFrontDoor); !a.ok()) return call.Finish(a.status());
  auto l = core_->ListByPhone(req->phone(), req->page());
  if (l.ok()) *resp = std::move(*l);
  return call.Finish(l.status());
}

grpc::ServerUnaryReactor* IntakeServiceImpl::AddSupplement(grpc::CallbackServerContext* ctx,
                                                           const v1::AddSupplementRequest* req,
                                                           v1::AddSupplementResponse* resp) {
  Call call(ctx, metrics_, "AddSupplement");
  if (auto a = auth_->Authorize(ctx, kFrontDoor); !a.ok()) return call.Finish(a.status());
  auto t = core_->Supplement(*req, Traceparent(ctx));
  if (t.ok()) *resp->mutable_ticket() = std::move(*t);
  return call.Finish(t.status());
}

grpc::ServerUnaryReactor* IntakeServiceImpl::WithdrawTicket(grpc::CallbackServerContext* ctx,
                                                            const v1::WithdrawTicketRequest* req,
                                                            v1::WithdrawTicketResponse* resp) {
  Call call(ctx, metrics_, "WithdrawTicket");
  if (auto a = auth_->Authorize(ctx, kFrontDoor); !a.ok()) return call.Finish(a.status());
  auto t = core_->Withdraw(*req, Traceparent(ctx));
  if (t.ok()) *resp->mutable_ticket() = std::move(*t);
  return call.Finish(t.status());
}

grpc::ServerUnaryReactor* IntakeServiceImpl::SearchKnowledge(grpc::CallbackServerContext* ctx,
                                                             const v1::SearchKnowledgeRequest* req,
                                                             v1::SearchKnowledgeResponse* resp) {
  Call call(ctx, metrics_, "SearchKnowledge");
  if (auto a = auth_->Authenticate(ctx); !a.ok()) return call.Finish(a.status());
  if (req->query().empty()) return call.Finish(absl::InvalidArgumentError("query: is required"));
  size_t limit = req->limit() <= 0 ? 5 : std::min(req->limit(), 20);
  for (const auto& m : core_->SearchKnowledge(req->query(), limit)) {
    auto* out = resp->add_matches();
    *out->mutable_entry() = *m.entry;
    out->set_score(m.score);
    out->set_coverage(m.coverage);
  }
  return call.Finish(absl::OkStatus());
}

}  // namespace hotline::intake

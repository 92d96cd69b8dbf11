#include "services/sla_timer/sla_service.h"

#include <google/protobuf/util/time_util.h>

#include "services/common/grpc_status.h"

namespace hotline::sla {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  auto* r = ctx->DefaultReactor();
  r->Finish(ToGrpcStatus(s));
  return r;
}

size_t PageSize(const v1::PageRequest& p) { return p.page_size() <= 0 ? 100 : std::min(p.page_size(), 1000); }

}  // namespace

grpc::ServerUnaryReactor* SlaServiceImpl::GetTicketClocks(grpc::CallbackServerContext* ctx,
                                                          const v1::GetTicketClocksRequest* req,
                                                          v1::GetTicketClocksResponse* resp) {
  if (auto a = auth_->Authenticate(ctx); !a.ok()) return Finish(ctx, a.status());
  auto r = engine_->TicketClocks(req->ticket_id());
  if (r.ok()) {
    for (auto& c : *r) *resp->add_clocks() = std::move(c);
  }
  return Finish(ctx, r.status());
}

grpc::ServerUnaryReactor* SlaServiceImpl::ListAtRisk(grpc::CallbackServerContext* ctx, const v1::ListAtRiskRequest* req,
                                                     v1::ListAtRiskResponse* resp) {
  if (auto a = auth_->Authenticate(ctx); !a.ok()) return Finish(ctx, a.status());
  int min = req->min_percent_elapsed() <= 0 ? 75 : req->min_percent_elapsed();
  auto r = engine_->AtRisk(req->department_id(), min, PageSize(req->page()));
  if (r.ok()) {
    for (auto& c : *r) *resp->add_clocks() = std::move(c);
  }
  return Finish(ctx, r.status());
}

grpc::ServerUnaryReactor* SlaServiceImpl::ListCards(grpc::CallbackServerContext* ctx, const v1::ListCardsRequest* req,
                                                    v1::ListCardsResponse* resp) {
  if (auto a = auth_->Authenticate(ctx); !a.ok()) return Finish(ctx, a.status());
  absl::Time since = req->has_since()
                         ? absl::FromUnixMillis(google::protobuf::util::TimeUtil::TimestampToMilliseconds(req->since()))
                         : absl::InfinitePast();
  auto r = engine_->Cards(req->department_id(), since, PageSize(req->page()));
  if (r.ok()) {
    for (auto& c : *r) *resp->add_cards() = std::move(c);
  }
  return Finish(ctx, r.status());
}

grpc::ServerUnaryReactor* SlaServiceImpl::PreviewDeadline(grpc::CallbackServerContext* ctx,
                                                          const v1::PreviewDeadlineRequest* req,
                                                          v1::PreviewDeadlineResponse* resp) {
  if (auto a = auth_->Authenticate(ctx); !a.ok()) return Finish(ctx, a.status());
  auto r = engine_->Preview(*req);
  if (r.ok()) *resp = std::move(*r);
  return Finish(ctx, r.status());
}

}  // namespace hotline::sla

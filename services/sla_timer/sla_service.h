#pragma once

#include "hotline/v1/sla_timer.grpc.pb.h"
#include "services/common/auth.h"
#include "services/sla_timer/sla_engine.h"

namespace hotline::sla {

class SlaServiceImpl final : public v1::SlaService::CallbackService {
 public:
  SlaServiceImpl(SlaEngine* engine, const Authenticator* auth) : engine_(engine), auth_(auth) {}
  grpc::ServerUnaryReactor* GetTicketClocks(grpc::CallbackServerContext* ctx, const v1::GetTicketClocksRequest* req,
                                            v1::GetTicketClocksResponse* resp) override;
  grpc::ServerUnaryReactor* ListAtRisk(grpc::CallbackServerContext* ctx, const v1::ListAtRiskRequest* req,
                                       v1::ListAtRiskResponse* resp) override;
  grpc::ServerUnaryReactor* ListCards(grpc::CallbackServerContext* ctx, const v1::ListCardsRequest* req,
                                      v1::ListCardsResponse* resp) override;
  grpc::ServerUnaryReactor* PreviewDeadline(grpc::CallbackServerContext* ctx, const v1::PreviewDeadlineRequest* req,
                                            v1::PreviewDeadlineResponse* resp) override;

 private:
  SlaEngine* engine_;
  const Authenticator* auth_;
};

}  // namespace hotline::sla

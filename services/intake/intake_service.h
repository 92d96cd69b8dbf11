#pragma once

#include "hotline/v1/intake.grpc.pb.h"
#include "services/common/auth.h"
#include "services/intake/intake_core.h"
#include "services/intake/intake_metrics.h"

namespace hotline::intake {

// gRPC edge of intake: unpacks requests, calls IntakeCore, maps absl::Status to gRPC codes and
// counts what happened. Handlers run on gRPC's callback threads and block on Redis (a few
// round trips per call).
class IntakeServiceImpl final : public v1::IntakeService::CallbackService {
 public:
  IntakeServiceImpl(IntakeCore* core, IntakeMetrics* metrics, const Authenticator* auth)
      : core_(core), metrics_(metrics), auth_(auth) {}

  grpc::ServerUnaryReactor* SubmitRequest(grpc::CallbackServerContext* ctx,
                                          const v1::SubmitRequestRequest* req,
                                          v1::SubmitRequestResponse* resp) override;
  grpc::ServerUnaryReactor* GetTicket(grpc::CallbackServerContext* ctx, const v1::GetTicketRequest* req,
                                      v1::GetTicketResponse* resp) override;
  grpc::ServerUnaryReactor* TrackTicket(grpc::CallbackServerContext* ctx,
                                        const v1::TrackTicketRequest* req,
                                        v1::TrackTicketResponse* resp) override;
  grpc::ServerUnaryReactor* ListCitizenTickets(grpc::CallbackServerContext* ctx,
                                               const v1::ListCitizenTicketsRequest* req,
                                               v1::ListCitizenTicketsResponse* resp) override;
  grpc::ServerUnaryReactor* AddSupplement(grpc::CallbackServerContext* ctx,
                                          const v1::AddSupplementRequest* req,
                                          v1::AddSupplementResponse* resp) override;
  grpc::ServerUnaryReactor* WithdrawTicket(grpc::CallbackServerContext* ctx,
                                           const v1::WithdrawTicketRequest* req,
                                           v1::WithdrawTicketResponse* resp) override;
  grpc::ServerUnaryReactor* SearchKnowledge(grpc::CallbackServerContext* ctx,
                                            const v1::SearchKnowledgeRequest* req,
                                            v1::SearchKnowledgeResponse* resp) override;

 private:
  IntakeCore* core_;
  IntakeMetrics* metrics_;
  const Authenticator* auth_;
};

// The W3C traceparent of the call, if the client sent one.
std::string Traceparent(const grpc::CallbackServerContext* ctx);

}  // namespace hotline::intake

#include "services/intake/intake_service.h"

#include "services/common/log.h"
#include "services/common/text.h"
#include "services/intake/intake_api.h"

namespace hotline::intake {

IntakeServiceImpl::IntakeServiceImpl(IntakeCore* core, IntakeMetrics* metrics, RpcCore* rpc)
    : GatedService(rpc, &IntakeApi()), core_(core), metrics_(metrics) {
  Handle("IntakeService/SubmitRequest", [this](const Caller& c, const v1::SubmitRequestRequest* req,
                                               v1::SubmitRequestResponse* resp) {
    auto r = core_->Submit(*req, c.traceparent);
    if (!r.ok()) {
      metrics_->CountSubmission(req->channel(), req->type_hint(),
                                absl::IsInvalidArgument(r.status()) ? "rejected" : "failed");
      return r.status();
    }
    *resp = std::move(r->response);
    metrics_->CountSubmission(resp->ticket().channel(), resp->ticket().type(),
                              OutcomeLabel(resp->outcome(), resp->replayed()));
    return absl::OkStatus();
  });
  Handle("IntakeService/GetTicket",
         [this](const Caller&, const v1::GetTicketRequest* req, v1::GetTicketResponse* resp) {
           return Fill(core_->Get(req->ticket_id()), resp->mutable_ticket());
         });
  Handle("IntakeService/TrackTicket", [this](const Caller& c, const v1::TrackTicketRequest* req,
                                             v1::TrackTicketResponse* resp) {
    // The caller is the second throttle key: one token cannot sweep many tickets' codes.
    return Fill(core_->Track(req->ticket_number(), req->verification_code(), c.principal.name),
                resp->mutable_ticket());
  });
  Handle("IntakeService/ListCitizenTickets",
         [this](const Caller&, const v1::ListCitizenTicketsRequest* req,
                v1::ListCitizenTicketsResponse* resp) {
           return Fill(core_->ListByPhone(req->phone(), req->page()), resp);
         });
  Handle("IntakeService/AddSupplement", [this](const Caller& c, const v1::AddSupplementRequest* req,
                                               v1::AddSupplementResponse* resp) {
    return Fill(core_->Supplement(*req, c.traceparent, c.principal.name), resp->mutable_ticket());
  });
  Handle(
      "IntakeService/WithdrawTicket", [this](const Caller& c, const v1::WithdrawTicketRequest* req,
                                             v1::WithdrawTicketResponse* resp) {
        return Fill(core_->Withdraw(*req, c.traceparent, c.principal.name), resp->mutable_ticket());
      });
  Handle("IntakeService/SearchKnowledge",
         [this](const Caller&, const v1::SearchKnowledgeRequest* req,
                v1::SearchKnowledgeResponse* resp) {
           if (req->query().empty()) return absl::InvalidArgumentError("query: is required");
           size_t limit = req->limit() <= 0 ? 5 : std::min(req->limit(), 20);
           for (const auto& m : core_->SearchKnowledge(req->query(), limit)) {
             auto* out = resp->add_matches();
             *out->mutable_entry() = *m.entry;
             out->set_score(m.score);
             out->set_coverage(m.coverage);
           }
           return absl::OkStatus();
         });
  Handle("IntakeService/GetCallbackContact", [this](const Caller&,
                                                    const v1::GetCallbackContactRequest* req,
                                                    v1::GetCallbackContactResponse* resp) {
    auto rec = core_->GetContactRecord(req->ticket_id());
    if (!rec.ok()) return rec.status();
    resp->set_ticket_id(rec->ticket.ticket_id());
    resp->set_type(rec->ticket.type());
    // A report filed without any way back (举报 may be anonymous) is never called back.
    const bool anonymous = rec->phone.empty() && rec->email.empty() && rec->wechat_openid.empty();
    resp->set_anonymous(anonymous);
    resp->set_opted_out(anonymous);
    if (anonymous) return absl::OkStatus();
    resp->set_phone(rec->phone);
    resp->set_masked_phone(MaskPhone(rec->phone));
    resp->set_email(rec->email);
    resp->set_masked_email(rec->email.empty() ? "" : RedactPersonalData(rec->email));
    resp->set_wechat_openid(rec->wechat_openid);
    resp->set_masked_name(MaskName(rec->name));
    return absl::OkStatus();
  });
}

}  // namespace hotline::intake

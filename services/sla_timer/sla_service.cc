#include "services/sla_timer/sla_service.h"

#include <google/protobuf/util/time_util.h>

#include "services/sla_timer/sla_api.h"

namespace hotline::sla {

SlaServiceImpl::SlaServiceImpl(SlaEngine* engine, RpcCore* rpc)
    : GatedService(rpc, &SlaApi()), engine_(engine) {
  Handle("SlaService/GetTicketClocks",
         [this](const Caller& c, const v1::GetTicketClocksRequest* req,
                v1::GetTicketClocksResponse* resp) {
           auto r = engine_->TicketClocks(req->ticket_id());
           if (!r.ok()) return r.status();
           const bool own_only = c.principal.role == Role::kDepartment;
           for (auto& clock : *r) {
             if (own_only && clock.department_id() != c.principal.department) continue;
             *resp->add_clocks() = std::move(clock);
           }
           // Another department's ticket looks like no ticket at all.
           if (own_only && resp->clocks().empty() && !r->empty()) {
             return absl::NotFoundError("ticket_id: no clocks for this ticket in your department");
           }
           return absl::OkStatus();
         });
  // The gate has put a department's own id into c.department (ApiPolicy department_field).
  Handle("SlaService/ListAtRisk",
         [this](const Caller& c, const v1::ListAtRiskRequest* req, v1::ListAtRiskResponse* resp) {
           auto page = ReadPage(req->page(), 100, 1000);
           if (!page.ok()) return page.status();
           int min = req->min_percent_elapsed() <= 0 ? 75 : req->min_percent_elapsed();
           auto r = engine_->AtRisk(c.department, min, page->size);
           if (!r.ok()) return r.status();
           for (auto& clock : *r) *resp->add_clocks() = std::move(clock);
           return absl::OkStatus();
         });
  Handle("SlaService/ListCards",
         [this](const Caller& c, const v1::ListCardsRequest* req, v1::ListCardsResponse* resp) {
           auto page = ReadPage(req->page(), 100, 1000);
           if (!page.ok()) return page.status();
           absl::Time since = absl::InfinitePast();
           if (req->has_since()) {
             since = absl::FromUnixMillis(
                 google::protobuf::util::TimeUtil::TimestampToMilliseconds(req->since()));
           }
           auto r = engine_->Cards(c.department, since, page->size);
           if (!r.ok()) return r.status();
           for (auto& card : *r) *resp->add_cards() = std::move(card);
           return absl::OkStatus();
         });
  Handle("SlaService/PreviewDeadline",
         [this](const Caller&, const v1::PreviewDeadlineRequest* req,
                v1::PreviewDeadlineResponse* resp) { return Fill(engine_->Preview(*req), resp); });
}

}  // namespace hotline::sla

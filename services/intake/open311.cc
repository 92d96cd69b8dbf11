#include "services/intake/open311.h"

#include <CivetServer.h>
#include <google/protobuf/util/time_util.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/text.h"

namespace hotline::intake {
namespace {

struct ServiceDef {
  v1::TicketType type;
  const char* code;
  const char* name;
  const char* description;
};

const ServiceDef kServices[] = {
    {v1::TICKET_TYPE_CONSULTATION, "consultation", "Question / consultation (咨询)",
     "Ask how to do something: permits, benefits, schedules. Often answered at once."},
    {v1::TICKET_TYPE_COMPLAINT, "complaint", "Complaint (投诉)",
     "Something is wrong and a department should fix it: noise, potholes, broken lights."},
    {v1::TICKET_TYPE_REPORT, "report", "Report a violation (举报)",
     "Illegal construction, dumping, unlicensed business."},
    {v1::TICKET_TYPE_HELP, "help", "Request help (求助)", "Someone needs assistance."},
    {v1::TICKET_TYPE_SUGGESTION, "suggestion", "Suggestion (建议)", "An idea for the city."},
    {v1::TICKET_TYPE_PRAISE, "praise", "Praise (表扬)", "Thank a department or a worker."},
};

std::string Q(const std::string& s) { return "\"" + JsonEscape(s) + "\""; }

std::string Iso(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0) return "null";
  absl::Time t = absl::FromUnixSeconds(ts.seconds());
  return Q(absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, absl::FixedTimeZone(8 * 3600)));
}

const ServiceDef* ServiceFor(v1::TicketType t) {
  for (const auto& s : kServices) {
    if (s.type == t) return &s;
  }
  return nullptr;
}

const ServiceDef* ServiceByCode(const std::string& code) {
  for (const auto& s : kServices) {
    if (code == s.code) return &s;
  }
  return nullptr;
}

void Send(mg_connection* conn, int status, const std::string& body) {
  const char* text = status == 200 ? "OK" : status == 201 ? "Created" : status == 400 ? "Bad Request"
                     : status == 401 ? "Unauthorized" : status == 403 ? "Forbidden" : status == 404 ? "Not Found" : status == 503 ? "Service Unavailable"
                                                    : "Internal Server Error";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
            "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
            status, text, body.size());
  mg_write(conn, body.data(), body.size());
}

void SendError(mg_connection* conn, const absl::Status& s) {
  int http = absl::IsInvalidArgument(s) ? 400 : absl::IsNotFound(s) ? 404
             : absl::IsUnavailable(s) ? 503 : 500;
  Send(conn, http, absl::StrCat("[{\"code\":", http, ",\"description\":", Q(std::string(s.message())), "}]"));
}

std::string Param(const std::string& data, const char* name) {
  std::string v;
  CivetServer::getParam(data, name, v);
  return v;
}

}  // namespace

std::string Open311RequestJson(const v1::Ticket& t) {
  const ServiceDef* svc = ServiceFor(t.type());
  bool closed = t.state() == v1::TICKET_STATE_DIRECT_ANSWERED || t.state() == v1::TICKET_STATE_WITHDRAWN;
  std::string notes;
  if (t.state() == v1::TICKET_STATE_MERGED) notes = "Merged with an earlier report of the same problem";
  if (t.state() == v1::TICKET_STATE_DIRECT_ANSWERED) notes = "Answered from the knowledge base (" + t.knowledge_code() + ")";
  if (t.state() == v1::TICKET_STATE_WITHDRAWN) notes = "Withdrawn by the requester";
  std::string out = absl::StrCat(
      "{\"service_request_id\":", Q(t.ticket_number()), ",\"status\":", Q(closed ? "closed" : "open"),
      ",\"status_notes\":", notes.empty() ? "null" : Q(notes),
      ",\"service_name\":", svc ? Q(svc->name) : "null", ",\"service_code\":", svc ? Q(svc->code) : "null",
      ",\"description\":", Q(RedactPersonalData(t.text())), ",\"agency_responsible\":null,\"service_notice\":null",
      ",\"requested_datetime\":", Iso(t.created_at()), ",\"updated_datetime\":", Iso(t.created_at()),
      ",\"expected_datetime\":null,\"address\":", Q(t.location().address()),
      ",\"address_id\":null,\"zipcode\":null");
  if (t.location().latitude() != 0 || t.location().longitude() != 0) {
    absl::StrAppend(&out, ",\"lat\":", t.location().latitude(), ",\"long\":", t.location().longitude());
  } else {
    absl::StrAppend(&out, ",\"lat\":null,\"long\":null");
  }
  absl::StrAppend(&out, ",\"media_url\":null}");
  return out;
}

class Open311Handler : public CivetHandler {
 public:
  Open311Handler(IntakeCore* core, IntakeMetrics* metrics, const Authenticator* auth)
      : core_(core), metrics_(metrics), auth_(auth) {}

  bool handleGet(CivetServer*, mg_connection* conn) override {
    const mg_request_info* ri = mg_get_request_info(conn);
    std::string uri = ri->local_uri ? ri->local_uri : "";
    std::string query = ri->query_string ? ri->query_string : "";
    if (uri == "/open311/v2/services.json") return Services(conn);
    if (uri == "/open311/v2/requests.json") return Query(conn, query);
    const std::string prefix = "/open311/v2/requests/";
    if (absl::StartsWith(uri, prefix) && absl::EndsWith(uri, ".json")) {
      return One(conn, uri.substr(prefix.size(), uri.size() - prefix.size() - 5));
    }
    SendError(conn, absl::NotFoundError("no such Open311 resource: " + uri));
    return true;
  }

  bool handlePost(CivetServer*, mg_connection* conn) override {
    const mg_request_info* ri = mg_get_request_info(conn);
    std::string uri = ri->local_uri ? ri->local_uri : "";
    if (uri != "/open311/v2/requests.json") {
      SendError(conn, absl::NotFoundError("POST goes to /open311/v2/requests.json"));
      return true;
    }
    return Submit(conn, CivetServer::getPostData(conn));
  }

 private:
  bool Services(mg_connection* conn) {
    std::string out = "[";
    for (const auto& s : kServices) {
      if (out.size() > 1) out += ",";
      absl::StrAppend(&out, "{\"service_code\":", Q(s.code), ",\"service_name\":", Q(s.name),
                      ",\"description\":", Q(s.description),
                      ",\"metadata\":false,\"type\":\"realtime\",\"keywords\":\"\",\"group\":\"hotline\"}");
    }
    Send(conn, 200, out + "]");
    return true;
  }

  bool Submit(mg_connection* conn, const std::string& body) {
    // Open311's api_key identifies the app filing the request.
    auto who = auth_->AuthenticateToken("Bearer " + Param(body, "api_key"));
    absl::Status allowed =
        who.ok() ? Authenticator::Require(*who, {Role::kChannel, Role::kService, Role::kSupervisor}) : who.status();
    if (!allowed.ok()) {
      Send(conn, absl::IsUnauthenticated(allowed) ? 401 : 403,
           absl::StrCat("[{\"code\":", absl::IsUnauthenticated(allowed) ? 401 : 403,
                        ",\"description\":", Q("api_key: " + std::string(allowed.message())), "}]"));
      return true;
    }
    std::string code = Param(body, "service_code");
    const ServiceDef* svc = ServiceByCode(code);
    if (svc == nullptr) {
      SendError(conn, absl::InvalidArgumentError(
                          code.empty() ? "service_code: is required"
                                       : "service_code: '" + code + "' is not one of GET services.json"));
      return true;
    }
    v1::SubmitRequestRequest req;
    req.set_channel(v1::CHANNEL_APP);
    req.set_type_hint(svc->type);
    req.set_text(Param(body, "description"));
    req.set_external_ref("open311");
    auto* loc = req.mutable_location();
    loc->set_address(Param(body, "address_string"));
    loc->set_district(Param(body, "attribute[district]"));
    double lat = 0, lng = 0;
    std::string slat = Param(body, "lat"), slng = Param(body, "long");
    if ((!slat.empty() && !absl::SimpleAtod(slat, &lat)) || (!slng.empty() && !absl::SimpleAtod(slng, &lng))) {
      SendError(conn, absl::InvalidArgumentError("lat/long: not decimal degrees"));
      return true;
    }
    loc->set_latitude(lat);
    loc->set_longitude(lng);
    auto* c = req.mutable_contact();
    c->set_phone(Param(body, "phone"));
    c->set_email(Param(body, "email"));
    std::string name = absl::StrCat(Param(body, "last_name"), Param(body, "first_name"));
    c->set_name(name);
    req.set_anonymous(c->phone().empty() && c->email().empty());
    const char* key = mg_get_header(conn, "Idempotency-Key");
    req.set_idempotency_key(key && *key ? std::string("open311:") + key : "open311:" + NewUuid());
    auto r = core_->Submit(req);
    if (!r.ok()) {
      metrics_->CountSubmission(req.channel(), req.type_hint(),
                                absl::IsInvalidArgument(r.status()) ? "rejected" : "failed");
      SendError(conn, r.status());
      return true;
    }
    const auto& resp = r->response;
    metrics_->CountSubmission(resp.ticket().channel(), resp.ticket().type(),
                              OutcomeLabel(resp.outcome(), resp.replayed()));
    std::string notice = resp.outcome() == v1::SUBMIT_OUTCOME_DIRECT_ANSWERED ? resp.answer()
                         : resp.outcome() == v1::SUBMIT_OUTCOME_MERGED
                             ? "Already reported; linked to the earlier request."
                             : "Received; verification code " + resp.verification_code();
    Send(conn, 201, absl::StrCat("[{\"service_request_id\":", Q(resp.ticket().ticket_number()),
                                 ",\"service_notice\":", Q(notice), ",\"account_id\":null}]"));
    return true;
  }

  bool One(mg_connection* conn, const std::string& id) {
    auto t = core_->Get(id);
    if (!t.ok()) {
      SendError(conn, t.status());
      return true;
    }
    Send(conn, 200, "[" + Open311RequestJson(*t) + "]");
    return true;
  }

  bool Query(mg_connection* conn, const std::string& query) {
    std::string ids = Param(query, "service_request_id");
    std::string out = "[";
    auto add = [&](const v1::Ticket& t) {
      if (out.size() > 1) out += ",";
      out += Open311RequestJson(t);
    };
    if (!ids.empty()) {
      for (absl::string_view id : absl::StrSplit(ids, ',', absl::SkipEmpty())) {
        auto t = core_->Get(std::string(id));
        if (t.ok()) add(*t);
        else if (!absl::IsNotFound(t.status())) {
          SendError(conn, t.status());
          return true;
        }
      }
      Send(conn, 200, out + "]");
      return true;
    }
    absl::Time end = absl::Now(), start = end - absl::Hours(24 * 90);
    std::string err;
    std::string s = Param(query, "start_date"), e = Param(query, "end_date");
    if (!s.empty() && !absl::ParseTime(absl::RFC3339_full, s, &start, &err)) {
      SendError(conn, absl::InvalidArgumentError("start_date: not ISO 8601 / RFC 3339: " + err));
      return true;
    }
    if (!e.empty() && !absl::ParseTime(absl::RFC3339_full, e, &end, &err)) {
      SendError(conn, absl::InvalidArgumentError("end_date: not ISO 8601 / RFC 3339: " + err));
      return true;
    }
    std::string code = Param(query, "service_code"), status = Param(query, "status");
    auto tickets = core_->ListCreated(start, end, 1000);
    if (!tickets.ok()) {
      SendError(conn, tickets.status());
      return true;
    }
    for (const auto& t : *tickets) {
      const ServiceDef* svc = ServiceFor(t.type());
      if (!code.empty() && (!svc || code != svc->code)) continue;
      bool closed = t.state() == v1::TICKET_STATE_DIRECT_ANSWERED || t.state() == v1::TICKET_STATE_WITHDRAWN;
      if (!status.empty() && status != (closed ? "closed" : "open")) continue;
      add(t);
    }
    Send(conn, 200, out + "]");
    return true;
  }

  IntakeCore* core_;
  IntakeMetrics* metrics_;
  const Authenticator* auth_;
};

absl::StatusOr<std::unique_ptr<Open311Server>> Open311Server::Start(const std::string& addr,
                                                                     IntakeCore* core,
                                                                     IntakeMetrics* metrics,
                                                                     const Authenticator* auth) {
  std::unique_ptr<Open311Server> s(new Open311Server());
  std::vector<std::string> options = {"listening_ports", addr, "num_threads", "8",
                                      "request_timeout_ms", "10000"};
  try {
    s->server_ = std::make_unique<CivetServer>(options);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("INTAKE_OPEN311_ADDR: cannot listen on ", addr, ": ", e.what()));
  }
  auto h = std::make_unique<Open311Handler>(core, metrics, auth);
  s->server_->addHandler("/open311/v2/", h.get());
  s->handlers_.push_back(std::move(h));
  auto ports = s->server_->getListeningPorts();
  s->port_ = ports.empty() ? 0 : ports.front();
  return s;
}

Open311Server::~Open311Server() { Stop(); }

void Open311Server::Stop() {
  if (server_) server_->close();
}

}  // namespace hotline::intake

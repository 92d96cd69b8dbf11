#include "services/intake/open311.h"

#include <civetweb.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/text.h"

namespace hotline::intake {
namespace {

using nlohmann::json;

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

// Roles that may file requests, and roles that may read a ticket's full record.
const std::set<Role> kMaySubmit = {Role::kChannel, Role::kService, Role::kSupervisor};
const std::set<Role> kMayRead = {Role::kCallTaker, Role::kDispatcher, Role::kSupervisor,
                                 Role::kService};

// Never throws: text that is not UTF-8 (it can only come from a client's own input echoed in
// an error) is replaced, not refused.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json Iso(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0) return nullptr;
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", absl::FromUnixSeconds(ts.seconds()),
                          absl::FixedTimeZone(8 * 3600));
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

// `t` is IntakeCore's view: its state is dispatch's once dispatch has spoken.
// A merged report is closed when its original is.
bool Closed(const v1::Ticket& t) {
  return t.state() == v1::TICKET_STATE_DIRECT_ANSWERED || t.state() == v1::TICKET_STATE_WITHDRAWN ||
         t.state() == v1::TICKET_STATE_CLOSED || t.status() == v1::CITIZEN_STATUS_CLOSED;
}

// The latest public note of the timeline: the department's reply while it stands (a reopen
// supersedes it), else the latest step. Never the citizen's own words (supplements, survey
// answers), and personal data masked in whatever the department wrote.
std::string PublicNote(const v1::Ticket& t) {
  const v1::TimelineEntry* latest = nullptr;
  const v1::TimelineEntry* reply = nullptr;
  for (const auto& e : t.timeline()) {
    switch (e.kind()) {
      case v1::TIMELINE_KIND_RECEIVED:
      case v1::TIMELINE_KIND_SUPPLEMENTED:
      case v1::TIMELINE_KIND_SURVEYED:
        continue;
      case v1::TIMELINE_KIND_REPLIED:
        reply = &e;
        break;
      case v1::TIMELINE_KIND_REOPENED:
        reply = nullptr;
        break;
      default:
        break;
    }
    latest = &e;
  }
  const v1::TimelineEntry* note = reply ? reply : latest;
  return note ? RedactPersonalData(note->text()) : "";
}

HttpResponse Json(int status, const json& body) { return HttpResponse{status, Dump(body)}; }

HttpResponse Error(int status, const std::string& description) {
  return Json(status, json::array({{{"code", status}, {"description", description}}}));
}

HttpResponse Error(const absl::Status& s) {
  int http = absl::IsInvalidArgument(s)     ? 400
             : absl::IsNotFound(s)          ? 404
             : absl::IsUnavailable(s)       ? 503
             : absl::IsUnauthenticated(s)   ? 401
             : absl::IsPermissionDenied(s)  ? 403
             : absl::IsResourceExhausted(s) ? 429
                                            : 500;
  // Backend failures keep their text in the log, not in the answer.
  if (http == 500) {
    LogWarn("Open311 request failed", {{"error", std::string(s.message())}});
    return Error(500, "internal error");
  }
  return Error(http, std::string(s.message()));
}

std::string UrlDecode(absl::string_view s) {
  std::vector<char> buf(s.size() + 1);
  int n =
      mg_url_decode(s.data(), static_cast<int>(s.size()), buf.data(), static_cast<int>(buf.size()),
                    /*is_form_url_encoded=*/1);
  return n > 0 ? std::string(buf.data(), static_cast<size_t>(n)) : "";
}

// The first form or query parameter called `name`, URL-decoded (civetweb's decoder), "" when
// absent. Names are decoded too: clients differ in whether they encode "attribute[district]".
std::string Param(const std::string& data, const char* name) {
  for (absl::string_view pair : absl::StrSplit(data, '&', absl::SkipEmpty())) {
    auto eq = pair.find('=');
    if (UrlDecode(pair.substr(0, eq)) != name) continue;
    return eq == absl::string_view::npos ? "" : UrlDecode(pair.substr(eq + 1));
  }
  return "";
}

}  // namespace

std::string Open311RequestJson(const v1::Ticket& t, bool full) {
  const ServiceDef* svc = ServiceFor(t.type());
  std::string notes;
  // A merged report shows the original's progress once there is some.
  if (t.state() == v1::TICKET_STATE_MERGED && t.status() == v1::CITIZEN_STATUS_MERGED)
    notes = "Merged with an earlier report of the same problem";
  if (t.state() == v1::TICKET_STATE_DIRECT_ANSWERED)
    notes = "Answered from the knowledge base (" + t.knowledge_code() + ")";
  if (t.state() == v1::TICKET_STATE_WITHDRAWN) notes = "Withdrawn by the requester";
  if (notes.empty()) notes = PublicNote(t);
  const std::string& agency = t.department_name().empty() ? t.department_id() : t.department_name();
  json j = {
      {"service_request_id", t.ticket_number()},
      {"status", Closed(t) ? "closed" : "open"},
      {"status_notes", notes.empty() ? json(nullptr) : json(notes)},
      {"service_name", svc ? json(svc->name) : json(nullptr)},
      {"service_code", svc ? json(svc->code) : json(nullptr)},
      {"agency_responsible", agency.empty() ? json(nullptr) : json(agency)},
      {"service_notice", nullptr},
      {"requested_datetime", Iso(t.created_at())},
      {"updated_datetime", Iso(t.has_updated_at() ? t.updated_at() : t.created_at())},
      {"expected_datetime", Iso(t.expected_at())},
      {"address_id", nullptr},
      {"zipcode", nullptr},
      {"media_url", nullptr},
  };
  const auto& loc = t.location();
  bool has_position = loc.latitude() != 0 || loc.longitude() != 0;
  if (full) {
    j["description"] = RedactPersonalData(t.text());
    j["address"] = loc.address().empty() ? json(nullptr) : json(loc.address());
    j["lat"] = has_position ? json(loc.latitude()) : json(nullptr);
    j["long"] = has_position ? json(loc.longitude()) : json(nullptr);
  } else {
    // Coarse on purpose: the district, and a position to 0.01° (about 1 km), enough for a map
    // of where problems are, not enough to find a door.
    j["description"] = nullptr;
    j["address"] = loc.district().empty() ? json(nullptr) : json(loc.district());
    j["lat"] = has_position ? json(std::round(loc.latitude() * 100) / 100) : json(nullptr);
    j["long"] = has_position ? json(std::round(loc.longitude() * 100) / 100) : json(nullptr);
  }
  return Dump(j);
}

class Open311Handler {
 public:
  Open311Handler(IntakeCore* core, IntakeMetrics* metrics, const Authenticator* auth)
      : core_(core), metrics_(metrics), auth_(auth) {}

  HttpResponse Handle(const HttpRequest& req, BodyReader& body) {
    const std::string prefix = "/open311/v2/";
    if (req.method == "GET") {
      if (req.path == prefix + "services.json") return Services();
      if (req.path == prefix + "requests.json") return Query(req);
      const std::string one = prefix + "requests/";
      if (absl::StartsWith(req.path, one) && absl::EndsWith(req.path, ".json")) {
        return One(req, req.path.substr(one.size(), req.path.size() - one.size() - 5));
      }
      return Error(404, "no such Open311 resource: " + req.path);
    }
    if (req.method == "POST") {
      if (req.path != prefix + "requests.json")
        return Error(404, "POST goes to /open311/v2/requests.json");
      return Submit(req, body);
    }
    return Error(405, "method: only GET and POST");
  }

 private:
  // The key a client presented, as an Authorization header value; "" when none.
  static std::string PresentedKey(const HttpRequest& req) {
    std::string key = Param(req.query, "api_key");
    if (key.empty()) key = req.Header("x-api-key");
    if (!key.empty()) return "Bearer " + key;
    return req.Header("authorization");
  }

  // The caller's principal, or the error to answer with. `required`: no key is an error.
  absl::StatusOr<std::optional<Principal>> Caller(const HttpRequest& req, bool required) {
    std::string key = PresentedKey(req);
    if (key.empty() && !auth_->disabled()) {
      if (!required) return std::nullopt;
      return absl::UnauthenticatedError(
          "api_key: required, in the query string (?api_key=) or the X-Api-Key header (it is "
          "checked before the body is read)");
    }
    if (key.empty()) return std::nullopt;  // development mode, no key: the public view
    auto who = auth_->AuthenticateToken(key);
    if (!who.ok())
      return absl::UnauthenticatedError("api_key: " + std::string(who.status().message()));
    return std::optional<Principal>(*who);
  }

  HttpResponse Refuse(const absl::Status& s) {
    metrics_->CountOpen311Refused("unauthorized");
    return Error(s);
  }

  HttpResponse Services() {
    json out = json::array();
    for (const auto& s : kServices) {
      out.push_back({{"service_code", s.code},
                     {"service_name", s.name},
                     {"description", s.description},
                     {"metadata", false},
                     {"type", "realtime"},
                     {"keywords", ""},
                     {"group", "hotline"}});
    }
    return Json(200, out);
  }

  HttpResponse Submit(const HttpRequest& http, BodyReader& reader) {
    // Who is calling, decided on the head alone: an unknown client never gets its body read.
    auto who = Caller(http, /*required=*/true);
    if (!who.ok()) return Refuse(who.status());
    if (who->has_value()) {
      if (auto s = Authenticator::Require(**who, kMaySubmit); !s.ok()) {
        return Refuse(absl::PermissionDeniedError("api_key: " + std::string(s.message())));
      }
    }
    auto body = reader.Read();
    if (!body.ok()) {
      int status = BodyErrorStatus(body.status());
      metrics_->CountOpen311Refused(status == 413   ? "too_large"
                                    : status == 411 ? "length_required"
                                    : status == 408 ? "timeout"
                                                    : "bad_request");
      return Error(status, std::string(body.status().message()));
    }
    std::string code = Param(*body, "service_code");
    const ServiceDef* svc = ServiceByCode(code);
    if (svc == nullptr) {
      return Error(absl::InvalidArgumentError(
          code.empty() ? "service_code: is required"
                       : "service_code: '" + code + "' is not one of GET services.json"));
    }
    v1::SubmitRequestRequest req;
    req.set_channel(v1::CHANNEL_APP);
    req.set_type_hint(svc->type);
    req.set_text(Param(*body, "description"));
    req.set_external_ref("open311");
    auto* loc = req.mutable_location();
    loc->set_address(Param(*body, "address_string"));
    loc->set_district(Param(*body, "attribute[district]"));
    double lat = 0, lng = 0;
    std::string slat = Param(*body, "lat"), slng = Param(*body, "long");
    if (!slat.empty() && !absl::SimpleAtod(slat, &lat)) {
      return Error(absl::InvalidArgumentError("lat: not decimal degrees"));
    }
    if (!slng.empty() && !absl::SimpleAtod(slng, &lng)) {
      return Error(absl::InvalidArgumentError("long: not decimal degrees"));
    }
    loc->set_latitude(lat);
    loc->set_longitude(lng);
    auto* c = req.mutable_contact();
    c->set_phone(Param(*body, "phone"));
    c->set_email(Param(*body, "email"));
    c->set_name(absl::StrCat(Param(*body, "last_name"), Param(*body, "first_name")));
    // Anonymous only when the app says so, as over gRPC; a request with no way to reach the
    // citizen is otherwise refused by the same validation ("contact: ...").
    std::string anonymous = Param(*body, "anonymous");
    req.set_anonymous(anonymous == "true" || anonymous == "1");
    std::string key = http.Header("idempotency-key");
    req.set_idempotency_key(!key.empty() ? "open311:" + key : "open311:" + NewUuid());
    auto r = core_->Submit(req);
    if (!r.ok()) {
      metrics_->CountSubmission(req.channel(), req.type_hint(),
                                absl::IsInvalidArgument(r.status()) ? "rejected" : "failed");
      return Error(r.status());
    }
    const auto& resp = r->response;
    metrics_->CountSubmission(resp.ticket().channel(), resp.ticket().type(),
                              OutcomeLabel(resp.outcome(), resp.replayed()));
    std::string notice = resp.outcome() == v1::SUBMIT_OUTCOME_DIRECT_ANSWERED ? resp.answer()
                         : resp.outcome() == v1::SUBMIT_OUTCOME_MERGED
                             ? "Already reported; linked to the earlier request."
                             : "Received; verification code " + resp.verification_code();
    return Json(201, json::array({{{"service_request_id", resp.ticket().ticket_number()},
                                   {"service_notice", notice},
                                   {"account_id", nullptr}}}));
  }

  // Whether this GET gets the full records; an error to answer with for a bad key.
  absl::StatusOr<bool> FullView(const HttpRequest& req) {
    auto who = Caller(req, /*required=*/false);
    if (!who.ok()) return who.status();
    return who->has_value() && Authenticator::Require(**who, kMayRead).ok();
  }

  HttpResponse One(const HttpRequest& req, const std::string& id) {
    auto full = FullView(req);
    if (!full.ok()) return Refuse(full.status());
    auto t = core_->Get(id);
    if (!t.ok()) return Error(t.status());
    return HttpResponse{200, "[" + Open311RequestJson(*t, *full) + "]"};
  }

  HttpResponse Query(const HttpRequest& req) {
    auto full = FullView(req);
    if (!full.ok()) return Refuse(full.status());
    std::string out = "[";
    auto add = [&](const v1::Ticket& t) {
      if (out.size() > 1) out += ",";
      out += Open311RequestJson(t, *full);
    };
    std::string ids = Param(req.query, "service_request_id");
    if (!ids.empty()) {
      std::vector<std::string> list = absl::StrSplit(ids, ',', absl::SkipEmpty());
      if (list.size() > 100) return Error(400, "service_request_id: at most 100 ids");
      for (const auto& id : list) {
        auto t = core_->Get(id);
        if (t.ok()) {
          add(*t);
        } else if (!absl::IsNotFound(t.status())) {
          return Error(t.status());
        }
      }
      return HttpResponse{200, out + "]"};
    }
    absl::Time end = absl::Now(), start = end - absl::Hours(24 * 90);
    std::string err;
    std::string s = Param(req.query, "start_date"), e = Param(req.query, "end_date");
    if (!s.empty() && !absl::ParseTime(absl::RFC3339_full, s, &start, &err)) {
      return Error(400, "start_date: not ISO 8601 / RFC 3339: " + err);
    }
    if (!e.empty() && !absl::ParseTime(absl::RFC3339_full, e, &end, &err)) {
      return Error(400, "end_date: not ISO 8601 / RFC 3339: " + err);
    }
    std::string code = Param(req.query, "service_code"), status = Param(req.query, "status");
    auto tickets = core_->ListCreated(start, end, 1000);
    if (!tickets.ok()) return Error(tickets.status());
    for (const auto& t : *tickets) {
      const ServiceDef* svc = ServiceFor(t.type());
      if (!code.empty() && (!svc || code != svc->code)) continue;
      if (!status.empty() && status != (Closed(t) ? "closed" : "open")) continue;
      add(t);
    }
    return HttpResponse{200, out + "]"};
  }

  IntakeCore* core_;
  IntakeMetrics* metrics_;
  const Authenticator* auth_;
};

absl::StatusOr<std::unique_ptr<Open311Server>> Open311Server::Start(const std::string& addr,
                                                                    const Open311Options& opts,
                                                                    IntakeCore* core,
                                                                    IntakeMetrics* metrics,
                                                                    const Authenticator* auth) {
  std::unique_ptr<Open311Server> s(new Open311Server());
  s->handler_ = std::make_unique<Open311Handler>(core, metrics, auth);
  auto http = HttpServer::Start(
      addr, opts.http,
      [h = s->handler_.get()](const HttpRequest& req, BodyReader& body) {
        return h->Handle(req, body);
      },
      [metrics](const std::string& reason) { metrics->CountOpen311Refused(reason); });
  if (!http.ok()) {
    return absl::UnavailableError(absl::StrCat("INTAKE_OPEN311_ADDR: ", http.status().message()));
  }
  s->http_ = std::move(*http);
  return s;
}

Open311Server::~Open311Server() { Stop(); }

void Open311Server::Stop() {
  if (http_) http_->Stop();
}

}  // namespace hotline::intake

// hotlinectl: the operator's command line for Hotline's intake API.
//
//   hotlinectl [--addr HOST:PORT] [--json] COMMAND ...
//     submit --channel web --text TEXT [--phone P] [--name N] [--email E] [--district D]
//            [--address A] [--type complaint] [--call-id C] [--key IDEMPOTENCY_KEY]
//     get ID_OR_NUMBER
//     track NUMBER CODE
//     list PHONE
//     search QUERY
//     feed FILE.jsonl        submit every line (proto JSON of SubmitRequestRequest), summarise
//
// --addr defaults to $HOTLINE_INTAKE_ADDR, then 127.0.0.1:17001 (tools/hotline-up's intake).
// --token (or $HOTLINE_TOKEN) is sent as "authorization: Bearer <token>" when auth is on.
// gRPC is TLS unless --plaintext or HOTLINE_GRPC_PLAINTEXT=1 (--tls-* flags, or HOTLINE_TLS_*).
// Flags are checked strictly: an unknown or malformed one exits 2 with its name (--help).
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "hotline/v1/intake.grpc.pb.h"
#include "services/common/events.h"
#include "services/common/text.h"
#include "tools/common/client_flags.h"
#include "tools/common/flags.h"

namespace {

using hotline::v1::IntakeService;
namespace v1 = hotline::v1;

constexpr char kProgram[] = "hotlinectl";

struct Options {
  std::string addr;
  std::string token;
  bool json = false;
  int timeout_ms = 5000;
  std::vector<std::string> args;
  // `submit`'s flags by name ("" when not given).
  std::map<std::string, std::string> flags;
};

// Flags only `submit` takes, with their help; the rest of the flags are global.
const struct {
  const char* name;
  const char* help;
} kSubmitFlags[] = {
    {"channel",
     "submit: phone, web, wechat, app, sms, email, transfer_110, message_board, "
     "enterprise_line"},
    {"text", "submit: the request in the citizen's words"},
    {"phone", "submit: the citizen's phone number"},
    {"name", "submit: the citizen's name"},
    {"email", "submit: the citizen's e-mail address"},
    {"district", "submit: the district"},
    {"address", "submit: the address"},
    {"type", "submit: consultation, complaint, report, help, suggestion or praise"},
    {"call-id", "submit: the telephony call id"},
    {"key", "submit: idempotency key (default: a new one)"},
};

// Parses argv strictly (tools/common/flags). Flags may stand anywhere, before or after the
// command. Returns -1 to go on, else the exit code (0 for --help).
int Parse(int argc, char** argv, Options* o, hotline::ClientTlsFlags* tls) {
  namespace flags = hotline::flags;
  flags::FlagParser p(
      "hotlinectl [FLAGS] COMMAND ...\n"
      "commands:\n"
      "  submit --channel CHANNEL --text TEXT [--phone P] [--name N] [--email E]\n"
      "         [--district D] [--address A] [--type TYPE] [--call-id C] [--key IDEMPOTENCY_KEY]\n"
      "  get ID_OR_NUMBER\n"
      "  track NUMBER CODE\n"
      "  list PHONE\n"
      "  search QUERY\n"
      "  feed FILE.jsonl         submit every line (proto JSON of SubmitRequestRequest)\n"
      "flags:");
  std::string timeout_text;
  p.String("addr", &o->addr,
           "intake's gRPC address HOST:PORT (default $HOTLINE_INTAKE_ADDR, else 127.0.0.1:17001)");
  // The environment's token is read after the parse, so --help cannot print it as a default.
  p.String("token", &o->token, "bearer token (default $HOTLINE_TOKEN)");
  p.String("timeout-ms", &timeout_text, "deadline per call, 1..600000 (default 5000)");
  p.Bool("json", &o->json, "print responses as JSON");
  flags::AddClientTlsFlags(p, tls);
  for (const auto& f : kSubmitFlags) p.String(f.name, &o->flags[f.name], f.help);
  p.set_unknown_flag_wording(flags::FlagParser::UnknownFlagWording::kReasonFirst);
  if (int rc = flags::ParseArgs(p, kProgram, argc, argv); rc >= 0) return rc;
  o->args = p.positional();

  if (!p.seen("addr")) {
    const char* env = std::getenv("HOTLINE_INTAKE_ADDR");
    o->addr = env && *env ? env : "127.0.0.1:17001";
  }
  if (!p.seen("token")) {
    const char* env = std::getenv("HOTLINE_TOKEN");
    if (env) o->token = env;
  }
  if (!timeout_text.empty()) {
    auto ms = flags::ParseTimeoutMs("--timeout-ms", timeout_text);
    if (!ms.ok()) return flags::UsageError(kProgram, ms.status().message());
    o->timeout_ms = *ms;
  }
  if (o->args.empty()) return flags::UsageError(kProgram, "a command is required");
  if (o->args[0] != "submit") {
    for (const auto& [name, value] : o->flags) {  // by name, so the message is stable
      if (p.seen(name)) return flags::UsageError(kProgram, "--" + name + ": only for submit");
    }
  }
  return -1;
}

std::string Short(const std::string& s, size_t chars) {
  auto cps = hotline::DecodeUtf8(s);
  std::string out;
  for (size_t i = 0; i < cps.size() && i < chars; ++i) {
    hotline::AppendUtf8(cps[i] == '\n' ? U' ' : cps[i], &out);
  }
  if (cps.size() > chars) out += "…";
  return out;
}

std::string EnumShort(const std::string& name, size_t prefix) {
  return hotline::EnumLabel(name, prefix, "-");
}
std::string State(v1::TicketState s) { return EnumShort(v1::TicketState_Name(s), 13); }
std::string Type(v1::TicketType t) { return EnumShort(v1::TicketType_Name(t), 12); }
std::string Channel(v1::Channel c) { return EnumShort(v1::Channel_Name(c), 8); }

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

// In the machine's local time (TZ), to the minute: what a person reading the timeline wants.
std::string When(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(ts.seconds()),
                          absl::LocalTimeZone());
}

void PrintTicket(const v1::Ticket& t) {
  std::printf("ticket     %s  (%s)\n", t.ticket_number().c_str(), t.ticket_id().c_str());
  std::printf("state      %s\n", State(t.state()).c_str());
  std::printf("type       %s%s\n", Type(t.type()).c_str(),
              t.urgency() == v1::URGENCY_URGENT ? "  URGENT" : "");
  std::printf("channel    %s\n", Channel(t.channel()).c_str());
  std::printf("citizen    %s %s %s\n", t.contact().citizen_id().c_str(),
              t.contact().masked_phone().c_str(), t.contact().masked_name().c_str());
  if (!t.location().district().empty() || !t.location().address().empty()) {
    std::printf("place      %s %s\n", t.location().district().c_str(),
                t.location().address().c_str());
  }
  std::printf("text       %s\n", t.text().c_str());
  if (!t.merged_into_ticket_id().empty())
    std::printf("merged     into %s\n", t.merged_into_ticket_id().c_str());
  if (!t.knowledge_code().empty())
    std::printf("answered   from knowledge entry %s\n", t.knowledge_code().c_str());
  for (const auto& s : t.supplements()) std::printf("supplement %s\n", s.text().c_str());
  // Where the ticket is, as the citizen is told (intake's timeline projection).
  if (t.status() != v1::CITIZEN_STATUS_UNSPECIFIED)
    std::printf("status     %s\n", EnumShort(v1::CitizenStatus_Name(t.status()), 15).c_str());
  if (!t.department_id().empty()) {
    std::printf("department %s%s\n", t.department_id().c_str(),
                t.department_name().empty() ? "" : ("  " + t.department_name()).c_str());
  }
  if (t.has_expected_at()) std::printf("expected   %s\n", When(t.expected_at()).c_str());
  if (!t.timeline().empty()) std::printf("timeline\n");
  for (const auto& e : t.timeline()) {
    std::printf("  %s  %-14s %s\n", When(e.at()).c_str(),
                EnumShort(v1::TimelineKind_Name(e.kind()), 14).c_str(), e.text().c_str());
  }
}

int Fail(const grpc::Status& s) {
  std::fprintf(stderr, "hotlinectl: %s: %s\n",
               s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? "rejected"
               : s.error_code() == grpc::StatusCode::NOT_FOUND      ? "not found"
               : s.error_code() == grpc::StatusCode::UNAVAILABLE    ? "intake unavailable"
                                                                    : "error",
               s.error_message().c_str());
  return s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? 3 : 1;
}

// What `get` and `track` print: the ticket a call returned, or why the call failed. Make the
// call first and pass its status: as arguments side by side, resp.ticket() may be read before
// the call fills it (the order of evaluation is unspecified) and show an empty ticket.
int ShowTicket(const grpc::Status& s, const v1::Ticket& t, const Options& o) {
  if (!s.ok()) return Fail(s);
  if (o.json) {
    std::cout << Json(t) << "\n";
  } else {
    PrintTicket(t);
  }
  return 0;
}

std::unique_ptr<grpc::ClientContext> Ctx(const Options& o) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(o.timeout_ms));
  if (!o.token.empty()) ctx->AddMetadata("authorization", "Bearer " + o.token);
  return ctx;
}

bool ParseEnum(const std::string& prefix, const std::string& value,
               const google::protobuf::EnumDescriptor* d, int* out) {
  const auto* v = d->FindValueByName(prefix + absl::AsciiStrToUpper(value));
  if (!v) return false;
  *out = v->number();
  return true;
}

int Submit(IntakeService::Stub& stub, const Options& o) {
  v1::SubmitRequestRequest req;
  auto flag = [&](const char* k) {
    auto it = o.flags.find(k);
    return it == o.flags.end() ? std::string() : it->second;
  };
  int ch = 0;
  if (!ParseEnum("CHANNEL_", flag("channel"), v1::Channel_descriptor(), &ch)) {
    std::cerr << "hotlinectl: --channel: one of phone, web, wechat, app, sms, email, transfer_110, "
                 "message_board, enterprise_line\n";
    return 2;
  }
  req.set_channel(static_cast<v1::Channel>(ch));
  if (!flag("type").empty()) {
    int ty = 0;
    if (!ParseEnum("TICKET_TYPE_", flag("type"), v1::TicketType_descriptor(), &ty)) {
      std::cerr
          << "hotlinectl: --type: consultation, complaint, report, help, suggestion or praise\n";
      return 2;
    }
    req.set_type_hint(static_cast<v1::TicketType>(ty));
  }
  req.set_text(flag("text"));
  req.mutable_contact()->set_phone(flag("phone"));
  req.mutable_contact()->set_name(flag("name"));
  req.mutable_contact()->set_email(flag("email"));
  req.mutable_location()->set_district(flag("district"));
  req.mutable_location()->set_address(flag("address"));
  req.set_call_id(flag("call-id"));
  req.set_idempotency_key(flag("key").empty() ? "ctl-" + hotline::NewUuid() : flag("key"));
  v1::SubmitRequestResponse resp;
  auto s = stub.SubmitRequest(Ctx(o).get(), req, &resp);
  if (!s.ok()) return Fail(s);
  if (o.json) {
    std::cout << Json(resp) << "\n";
    return 0;
  }
  std::printf("outcome    %s%s\n", EnumShort(v1::SubmitOutcome_Name(resp.outcome()), 15).c_str(),
              resp.replayed() ? " (replayed: this key was used before)" : "");
  std::printf("code       %s   (the citizen needs it to track the ticket)\n",
              resp.verification_code().c_str());
  if (!resp.answer().empty()) std::printf("answer     %s\n", resp.answer().c_str());
  PrintTicket(resp.ticket());
  return 0;
}

int Feed(IntakeService::Stub& stub, const Options& o, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "hotlinectl: cannot read " << path << "\n";
    return 2;
  }
  std::map<std::string, int> outcomes, types, channels;
  int total = 0, errors = 0, urgent = 0;
  std::vector<std::string> examples;
  std::map<std::string, int> shown;
  std::string line;
  auto start = std::chrono::steady_clock::now();
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    v1::SubmitRequestRequest req;
    if (!google::protobuf::util::JsonStringToMessage(line, &req).ok()) {
      ++errors;
      continue;
    }
    v1::SubmitRequestResponse resp;
    auto s = stub.SubmitRequest(Ctx(o).get(), req, &resp);
    ++total;
    if (!s.ok()) {
      ++errors;
      std::fprintf(stderr, "  %s: %s\n", req.idempotency_key().c_str(), s.error_message().c_str());
      continue;
    }
    if (o.json) std::cout << Json(resp) << "\n";
    std::string outcome =
        resp.replayed() ? "replayed" : EnumShort(v1::SubmitOutcome_Name(resp.outcome()), 15);
    ++outcomes[outcome];
    ++types[Type(resp.ticket().type())];
    ++channels[Channel(resp.ticket().channel())];
    if (resp.ticket().urgency() == v1::URGENCY_URGENT) ++urgent;
    // Two examples of each outcome, and every urgent one up to four.
    std::string kind = resp.ticket().urgency() == v1::URGENCY_URGENT ? "urgent" : outcome;
    if (++shown[kind] <= (kind == "urgent" ? 4 : 2)) {
      examples.push_back(absl::StrCat("  ", resp.ticket().ticket_number(), "  ",
                                      absl::StrFormat("%-16s", kind), "  ",
                                      Short(resp.ticket().text(), 30)));
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (o.json) return errors ? 1 : 0;
  std::printf("submitted %d requests in %.1f s (%d errors)\n\n", total, secs, errors);
  auto table = [](const char* title, const std::map<std::string, int>& m) {
    std::printf("  %-16s", title);
    for (const auto& [k, v] : m) std::printf(" %s=%d", k.c_str(), v);
    std::printf("\n");
  };
  table("outcome", outcomes);
  table("type", types);
  table("channel", channels);
  std::printf("  %-16s %d\n\nexamples:\n", "urgent", urgent);
  for (const auto& e : examples) std::printf("%s\n", e.c_str());
  return errors ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  hotline::ClientTlsFlags tls_flags;
  if (int rc = Parse(argc, argv, &o, &tls_flags); rc >= 0) return rc;
  auto channel = hotline::flags::ClientChannel(o.addr, tls_flags);
  if (!channel.ok()) return hotline::flags::UsageError(kProgram, channel.status().message());
  auto stub = IntakeService::NewStub(*channel);
  const std::string& cmd = o.args[0];
  if (cmd == "submit") return Submit(*stub, o);
  if (cmd == "feed" && o.args.size() == 2) return Feed(*stub, o, o.args[1]);
  if (cmd == "get" && o.args.size() == 2) {
    v1::GetTicketRequest req;
    req.set_ticket_id(o.args[1]);
    v1::GetTicketResponse resp;
    auto s = stub->GetTicket(Ctx(o).get(), req, &resp);
    return ShowTicket(s, resp.ticket(), o);
  }
  if (cmd == "track" && o.args.size() == 3) {
    v1::TrackTicketRequest req;
    req.set_ticket_number(o.args[1]);
    req.set_verification_code(o.args[2]);
    v1::TrackTicketResponse resp;
    auto s = stub->TrackTicket(Ctx(o).get(), req, &resp);
    return ShowTicket(s, resp.ticket(), o);
  }
  if (cmd == "list" && o.args.size() == 2) {
    v1::ListCitizenTicketsRequest req;
    req.set_phone(o.args[1]);
    req.mutable_page()->set_page_size(50);
    v1::ListCitizenTicketsResponse resp;
    auto s = stub->ListCitizenTickets(Ctx(o).get(), req, &resp);
    if (!s.ok()) return Fail(s);
    if (o.json) {
      std::cout << Json(resp) << "\n";
      return 0;
    }
    std::printf("%-20s %-16s %-13s %-10s %s\n", "TICKET", "STATE", "TYPE", "CHANNEL", "TEXT");
    for (const auto& t : resp.tickets()) {
      std::printf("%-20s %-16s %-13s %-10s %s\n", t.ticket_number().c_str(),
                  State(t.state()).c_str(), Type(t.type()).c_str(), Channel(t.channel()).c_str(),
                  Short(t.text(), 30).c_str());
    }
    return 0;
  }
  if (cmd == "search" && o.args.size() == 2) {
    v1::SearchKnowledgeRequest req;
    req.set_query(o.args[1]);
    v1::SearchKnowledgeResponse resp;
    auto s = stub->SearchKnowledge(Ctx(o).get(), req, &resp);
    if (!s.ok()) return Fail(s);
    if (o.json) {
      std::cout << Json(resp) << "\n";
      return 0;
    }
    for (const auto& m : resp.matches()) {
      std::printf("%-8s score %5.2f  coverage %3.0f%%  %s\n         %s\n", m.entry().code().c_str(),
                  m.score(), m.coverage() * 100, m.entry().question().c_str(),
                  Short(m.entry().answer(), 60).c_str());
    }
    return 0;
  }
  return hotline::flags::UsageError(kProgram,
                                    "unknown command or wrong number of arguments: " + cmd);
}

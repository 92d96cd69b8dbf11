// Open311 against the real hotline-intake binary (authentication on), redis-server and the dev
// broker, over raw sockets so the test controls exactly what a client sends and when.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "hotline/v1/intake.grpc.pb.h"
#include "tests/support/service_process.h"

using namespace hotline;
using namespace hotline::testing;
using Clock = std::chrono::steady_clock;

namespace {

const char kChannelKey[] = "tok-channel-app-0123456789";
const char kCallTakerKey[] = "tok-call-taker-0123456789";
const char kAnalystKey[] = "tok-analyst-000123456789";

std::string WriteTokens(const TempDir& dir) {
  std::string path = dir.path() + "/tokens";
  std::ofstream(path) << kChannelKey << " channel app\n"
                      << kCallTakerKey << " call-taker ct1\n"
                      << kAnalystKey << " analyst an1\n";
  return path;
}

constexpr int kMaxConnections = 12;
constexpr int kReadTimeoutMs = 2000;

// One stack for the file; limits small enough to reach in a test.
struct Stack {
  RedisServer redis;
  DevBroker broker;
  TempDir dir;
  int port = FreePort();
  ServiceProcess intake{
      HOTLINE_INTAKE_BIN,
      redis.url(),
      broker.bootstrap(),
      {"INTAKE_KNOWLEDGE_BASE=" HOTLINE_REPO_DIR "/deploy/knowledge/knowledge_base.jsonl",
       "INTAKE_OPEN311_ADDR=127.0.0.1:" + std::to_string(port), "INTAKE_CITY_CODE=GZ",
       "HOTLINE_AUTH_TOKENS_FILE=" + WriteTokens(dir),
       "INTAKE_OPEN311_MAX_CONNECTIONS=" + std::to_string(kMaxConnections),
       "INTAKE_OPEN311_READ_TIMEOUT_MS=" + std::to_string(kReadTimeoutMs)}};
};

Stack& S() {
  static Stack stack;
  return stack;
}

class Socket {
 public:
  explicit Socket(int port, int recv_timeout_ms = 5000) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    timeval tv{recv_timeout_ms / 1000, (recv_timeout_ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~Socket() { close(fd_); }
  Socket(const Socket&) = delete;
  bool Send(const std::string& s) {
    return send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Everything until the server closes (or the receive timeout).
  std::string ReadAll() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd_, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct Reply {
  int status = 0;
  std::string body;
  double seconds = 0;
};

Reply Parse(const std::string& raw, Clock::time_point start) {
  Reply r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (raw.rfind("HTTP/1.1 ", 0) == 0) r.status = std::stoi(raw.substr(9, 3));
  auto p = raw.find("\r\n\r\n");
  if (p != std::string::npos) r.body = raw.substr(p + 4);
  return r;
}

Reply Http(const std::string& method, const std::string& target, const std::string& headers = "",
           const std::string& body = "") {
  auto start = Clock::now();
  Socket s(S().port);
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + headers;
  if (method == "POST") {
    req += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n";
  }
  s.Send(req + "\r\n" + body);
  return Parse(s.ReadAll(), start);
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char b[4];
      snprintf(b, sizeof(b), "%%%02X", c);
      out += b;
    }
  }
  return out;
}

std::string Form(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out;
  for (const auto& [k, v] : kv) out += (out.empty() ? "" : "&") + UrlEncode(k) + "=" + UrlEncode(v);
  return out;
}

const std::string kRequests = "/open311/v2/requests.json";

// hotline_intake_open311_refused_total{reason} as intake exports it now.
double Refused(const std::string& reason) {
  std::string m =
      Run("curl -s http://127.0.0.1:" + std::to_string(S().intake.metrics_port()) + "/metrics");
  std::string series = "hotline_intake_open311_refused_total{reason=\"" + reason + "\"} ";
  auto p = m.find(series);
  if (p == std::string::npos) return -1;
  double v = -1;
  std::string num = m.substr(p + series.size(), m.find('\n', p) - p - series.size());
  return absl::SimpleAtod(num, &v) ? v : -1;
}

// The head of a POST that announces a body it never sends.
std::string HugePostHead(const std::string& query) {
  return "POST " + kRequests + query +
         " HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
         "Content-Length: 300000000\r\n\r\n";
}

}  // namespace

TEST_CASE("Open311: an oversized Content-Length is answered 413 before any body is sent") {
  (void)S();  // the stack starts outside the timed part
  auto start = Clock::now();
  Socket s(S().port);
  REQUIRE(s.Send(HugePostHead("?api_key=" + std::string(kChannelKey))));
  Reply r = Parse(s.ReadAll(), start);  // we never send a byte of the body
  INFO(r.body);
  CHECK(r.status == 413);
  CHECK(r.body.find("\"code\":413") != std::string::npos);
  CHECK(r.body.find("at most 65536") != std::string::npos);
  CHECK(r.seconds < 1.5);

  // A chunked body (no length to check up front) is refused with 411, also unread.
  start = Clock::now();
  Socket c(S().port);
  REQUIRE(c.Send("POST " + kRequests + "?api_key=" + kChannelKey +
                 " HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"));
  r = Parse(c.ReadAll(), start);
  CHECK(r.status == 411);
  CHECK(r.seconds < 1.5);
}

TEST_CASE("Open311: the api_key is checked before the body is read") {
  (void)S();
  for (const std::string& query :
       {std::string(""), std::string("?api_key=not-a-key-at-all-000000")}) {
    auto start = Clock::now();
    Socket s(S().port);
    REQUIRE(s.Send(HugePostHead(query)));
    Reply r = Parse(s.ReadAll(), start);
    INFO(query << " → " << r.body);
    CHECK(r.status == 401);
    CHECK(r.body.find("api_key:") != std::string::npos);
    CHECK(r.seconds < 1.5);
  }
  // A known key whose role may not file requests: 403, body still unread.
  auto start = Clock::now();
  Socket s(S().port);
  REQUIRE(s.Send(HugePostHead("?api_key=" + std::string(kAnalystKey))));
  Reply r = Parse(s.ReadAll(), start);
  CHECK(r.status == 403);
  CHECK(r.seconds < 1.5);
  // The key may also come as a header.
  r = Http("POST", kRequests, "X-Api-Key: " + std::string(kChannelKey) + "\r\n",
           Form({{"service_code", "complaint"},
                 {"description", "石牌桥地铁站C出口的扶梯停了"},
                 {"email", "a@example.org"}}));
  INFO(r.body);
  CHECK(r.status == 201);
}

TEST_CASE("Open311: slow connections do not stop a normal request, and are cut off") {
  (void)S();
  // Eight slow-loris clients: each sends a byte of its head every 200 ms, never finishing.
  std::vector<std::unique_ptr<Socket>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<Socket>(S().port, 100));
    REQUIRE(slow.back()->Send("GET /open311/v2/services.json HTTP/1.1\r\n"));
  }
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    while (!stop) {
      for (auto& s : slow) s->Send("X");
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // they are all being served
  Reply r = Http("GET", "/open311/v2/services.json");
  CHECK(r.status == 200);
  CHECK(r.seconds < 3.0);  // measured: a few ms
  WARN("normal request with 8 slow connections open: " << r.seconds * 1000 << " ms");

  // Trickling does not extend the deadline: each slow client gets 408 and is closed within the
  // read timeout (plus slack), although it never stopped sending.
  auto start = Clock::now();
  int closed = 0;
  for (auto& s : slow) {
    std::string got;
    while (Clock::now() - start < std::chrono::milliseconds(kReadTimeoutMs + 2000)) {
      char buf[512];
      ssize_t n = recv(s->fd(), buf, sizeof(buf), 0);
      if (n > 0) got.append(buf, static_cast<size_t>(n));
      if (n == 0 || got.find("\r\n\r\n") != std::string::npos) break;
    }
    closed += got.rfind("HTTP/1.1 408", 0) == 0;
  }
  stop = true;
  trickle.join();
  CHECK(closed == 8);
  CHECK(Refused("timeout") >= 8);
}

TEST_CASE("Open311: past the connection cap new connections get 503 at once") {
  (void)S();
  std::vector<std::unique_ptr<Socket>> idle;
  for (int i = 0; i < kMaxConnections; ++i) idle.push_back(std::make_unique<Socket>(S().port));
  auto start = Clock::now();
  Socket extra(S().port);
  extra.Send("GET /open311/v2/services.json HTTP/1.1\r\nHost: test\r\n\r\n");
  Reply r = Parse(extra.ReadAll(), start);
  INFO(r.body);
  CHECK(r.status == 503);
  CHECK(r.seconds < 1.0);
  CHECK(Refused("busy") >= 1);
  idle.clear();
  // Freed connections serve again.
  CHECK(WaitFor([] { return Http("GET", "/open311/v2/services.json").status == 200; },
                std::chrono::seconds(5), std::chrono::milliseconds(100)));
}

TEST_CASE("Open311: without a reading key, GET shows no free text, address or contact") {
  const std::string text =
      "天河路385号门口的消防通道被堵，联系我 13912345678 或 wang.wu@example.com";
  Reply posted =
      Http("POST", kRequests + "?api_key=" + kChannelKey, "Idempotency-Key: o311-priv-1\r\n",
           Form({{"service_code", "complaint"},
                 {"description", text},
                 {"address_string", "天河路385号"},
                 {"attribute[district]", "天河区"},
                 {"lat", "23.13716"},
                 {"long", "113.32476"},
                 {"phone", "13912345678"},
                 {"email", "wang.wu@example.com"}}));
  INFO(posted.body);
  REQUIRE(posted.status == 201);
  auto pos = posted.body.find("\"service_request_id\":\"GZ-");
  REQUIRE(pos != std::string::npos);
  std::string id = posted.body.substr(pos + 22, posted.body.find('"', pos + 22) - pos - 22);

  auto no_private_data = [&](const std::string& body) {
    INFO(body);
    CHECK(body.find("消防通道") == std::string::npos);     // description
    CHECK(body.find("天河路385号") == std::string::npos);  // address text
    CHECK(body.find("3912345678") == std::string::npos);
    CHECK(body.find("138****") == std::string::npos);
    CHECK(body.find("wang.wu") == std::string::npos);
    CHECK(body.find("23.13716") == std::string::npos);  // exact position
  };
  for (const std::string& key : {std::string(""), "?api_key=" + std::string(kChannelKey)}) {
    Reply one = Http("GET", "/open311/v2/requests/" + id + ".json" + key);
    REQUIRE(one.status == 200);
    no_private_data(one.body);
    CHECK(one.body.find("\"service_request_id\":\"" + id + "\"") != std::string::npos);
    CHECK(one.body.find("\"status\":\"open\"") != std::string::npos);
    CHECK(one.body.find("\"service_code\":\"complaint\"") != std::string::npos);
    CHECK(one.body.find("\"address\":\"天河区\"") != std::string::npos);  // the district
    CHECK(one.body.find("\"lat\":23.14") != std::string::npos);           // 0.01°
    CHECK(one.body.find("\"requested_datetime\":\"20") != std::string::npos);
  }
  // Enumerating numbers or listing reveals no free text either.
  Reply list = Http("GET", kRequests);
  REQUIRE(list.status == 200);
  CHECK(list.body.find(id) != std::string::npos);
  no_private_data(list.body);
  std::string prefix = id.substr(0, id.rfind('-') + 1);
  std::string ids;
  for (int n = 1; n <= 20; ++n) ids += (ids.empty() ? "" : ",") + prefix + std::to_string(n);
  Reply walk = Http("GET", kRequests + "?service_request_id=" + ids);
  REQUIRE(walk.status == 200);
  no_private_data(walk.body);

  // A call-taker's key reads the record: description (personal data masked), address, position.
  Reply keyed = Http("GET", "/open311/v2/requests/" + id + ".json",
                     "X-Api-Key: " + std::string(kCallTakerKey) + "\r\n");
  INFO(keyed.body);
  REQUIRE(keyed.status == 200);
  CHECK(keyed.body.find("消防通道被堵") != std::string::npos);
  CHECK(keyed.body.find("\"address\":\"天河路385号\"") != std::string::npos);
  CHECK(keyed.body.find("23.13716") != std::string::npos);
  CHECK(keyed.body.find("139****5678") != std::string::npos);
  CHECK(keyed.body.find("w***@example.com") != std::string::npos);
  CHECK(keyed.body.find("13912345678") == std::string::npos);
  // A wrong key is refused rather than silently given the public view.
  CHECK(Http("GET", "/open311/v2/requests/" + id + ".json?api_key=wrong-key-0000000000").status ==
        401);
}

TEST_CASE("Open311: a request without any contact is refused like gRPC refuses it") {
  Reply r =
      Http("POST", kRequests + "?api_key=" + kChannelKey, "",
           Form({{"service_code", "complaint"}, {"description", "华师附中门口的红绿灯坏了"}}));
  INFO(r.body);
  CHECK(r.status == 400);
  CHECK(r.body.find("\"description\":\"contact: ") != std::string::npos);

  auto stub = v1::IntakeService::NewStub(
      grpc::CreateChannel(S().intake.grpc_addr(), grpc::InsecureChannelCredentials()));
  v1::SubmitRequestRequest req;
  req.set_channel(v1::CHANNEL_APP);
  req.set_text("华师附中门口的红绿灯坏了");
  req.set_idempotency_key("o311-nocontact-grpc");
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + kChannelKey);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::SubmitRequestResponse resp;
  auto s = stub->SubmitRequest(&ctx, req, &resp);
  REQUIRE(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(r.body.find("\"description\":\"" + s.error_message() + "\"") != std::string::npos);
}

TEST_CASE("Open311: refusals are counted by reason") {
  double large = Refused("too_large"), length = Refused("length_required"),
         unauth = Refused("unauthorized");
  REQUIRE(large >= 0);
  {
    Socket s(S().port);
    s.Send(HugePostHead("?api_key=" + std::string(kChannelKey)));
    s.ReadAll();
  }
  {
    Socket s(S().port);
    s.Send("POST " + kRequests + "?api_key=" + kChannelKey +
           " HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n");
    s.ReadAll();
  }
  CHECK(Http("POST", kRequests, "", "service_code=complaint").status == 401);
  CHECK(Refused("too_large") == large + 1);
  CHECK(Refused("length_required") == length + 1);
  CHECK(Refused("unauthorized") == unauth + 1);
}

#include "services/common/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace hotline {
namespace {

// After answering, what the client still sends is read and dropped for at most this long, so
// closing with unread data does not reset the connection before the client reads the answer.
constexpr absl::Duration kLingerTime = absl::Milliseconds(500);
constexpr size_t kLingerBytes = 1 << 20;

// Waits until `fd` is ready for `events` or `deadline` passes. false on timeout.
bool WaitReady(int fd, short events, absl::Time deadline) {
  while (true) {
    int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (ms <= 0) return false;
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, 1000)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return true;  // let the read/write report the error
  }
}

// Reads what is there (at most n). >0 bytes, 0 closed, -1 error, -2 deadline.
ssize_t RecvBy(int fd, char* buf, size_t n, absl::Time deadline) {
  while (true) {
    ssize_t r = recv(fd, buf, n, 0);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (!WaitReady(fd, POLLIN, deadline)) return -2;
  }
}

bool SendAll(int fd, const std::string& data, absl::Time deadline) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t r = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (r > 0) {
      off += static_cast<size_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitReady(fd, POLLOUT, deadline)) return false;
      continue;
    }
    return false;
  }
  return true;
}

std::string Serialize(const HttpResponse& r) {
  return absl::StrCat("HTTP/1.1 ", r.status, " ", HttpReason(r.status),
                      "\r\nContent-Type: ", r.content_type, "\r\nContent-Length: ", r.body.size(),
                      "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n", r.body);
}

HttpResponse ErrorResponse(int status, const std::string& description) {
  // The JSON shape Open311 uses for errors (intake was the first user; any JSON client reads
  // it); `description` is our own fixed text.
  return HttpResponse{
      status, absl::StrCat("[{\"code\":", status, ",\"description\":\"", description, "\"}]")};
}

// Drops what the client still sends (bounded); the caller closes.
void Linger(int fd, absl::Duration linger) {
  shutdown(fd, SHUT_WR);
  absl::Time deadline = absl::Now() + linger;
  char buf[16 * 1024];
  size_t dropped = 0;
  while (dropped < kLingerBytes) {
    ssize_t r = RecvBy(fd, buf, sizeof(buf), deadline);
    if (r <= 0) break;
    dropped += static_cast<size_t>(r);
  }
}

// Parses the head (request line and headers, without the blank line). false: malformed.
bool ParseHead(absl::string_view head, HttpRequest* req) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  if (lines.empty()) return false;
  std::vector<absl::string_view> parts = absl::StrSplit(lines[0], ' ');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[1][0] != '/' ||
      !absl::StartsWith(parts[2], "HTTP/1.")) {
    return false;
  }
  req->method = std::string(parts[0]);
  absl::string_view target = parts[1];
  auto q = target.find('?');
  req->path = std::string(target.substr(0, q));
  if (q != absl::string_view::npos) req->query = std::string(target.substr(q + 1));
  for (size_t i = 1; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    auto colon = line.find(':');
    // No obsolete line folding, no whitespace before the colon (RFC 9112 5.1: reject).
    if (colon == absl::string_view::npos || colon == 0 || line[0] == ' ' || line[0] == '\t' ||
        line[colon - 1] == ' ') {
      return false;
    }
    std::string name = absl::AsciiStrToLower(line.substr(0, colon));
    std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    if (name == "content-length") {
      int64_t n = 0;
      if (!absl::SimpleAtoi(value, &n) || n < 0 ||
          value.find_first_not_of("0123456789") != std::string::npos) {
        return false;
      }
      if (req->content_length >= 0 && req->content_length != n) return false;  // smuggling
      req->content_length = n;
    } else if (name == "transfer-encoding") {
      req->chunked = true;
    }
    auto& slot = req->headers[name];
    slot = slot.empty() ? value : slot + ", " + value;
  }
  return true;
}

class SocketBodyReader final : public BodyReader {
 public:
  SocketBodyReader(int fd, const HttpRequest& req, std::string prefix, const HttpLimits& limits)
      : fd_(fd), req_(req), prefix_(std::move(prefix)), limits_(limits) {}

  absl::StatusOr<std::string> Read() override {
    if (done_) return body_;
    if (req_.chunked) {
      return absl::FailedPreconditionError(
          "Content-Length: required; chunked bodies are not accepted");
    }
    if (req_.content_length < 0) return absl::FailedPreconditionError("Content-Length: required");
    if (static_cast<uint64_t>(req_.content_length) > limits_.max_body_bytes) {
      return absl::OutOfRangeError(
          absl::StrCat("body: ", req_.content_length, " bytes, at most ", limits_.max_body_bytes));
    }
    size_t want = static_cast<size_t>(req_.content_length);
    absl::Time deadline = absl::Now() + limits_.read_timeout;
    if (absl::AsciiStrToLower(req_.Header("expect")) == "100-continue" && prefix_.size() < want) {
      if (!SendAll(fd_, "HTTP/1.1 100 Continue\r\n\r\n", deadline)) {
        return absl::UnavailableError("client went away");
      }
    }
    body_ = std::move(prefix_);
    if (body_.size() > want) body_.resize(want);  // a pipelined request after it is not served
    while (body_.size() < want) {
      char buf[16 * 1024];
      ssize_t r = RecvBy(fd_, buf, std::min(sizeof(buf), want - body_.size()), deadline);
      if (r == -2) return absl::DeadlineExceededError("body: not received in time");
      if (r <= 0) return absl::UnavailableError("client went away");
      body_.append(buf, static_cast<size_t>(r));
    }
    done_ = true;
    return body_;
  }

 private:
  int fd_;
  const HttpRequest& req_;
  std::string prefix_;
  const HttpLimits& limits_;
  std::string body_;
  bool done_ = false;
};

}  // namespace

std::string HttpRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

int BodyErrorStatus(const absl::Status& s) {
  if (absl::IsFailedPrecondition(s)) return 411;
  if (absl::IsOutOfRange(s)) return 413;
  if (absl::IsDeadlineExceeded(s)) return 408;
  return 400;
}

const char* HttpReason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& addr,
                                                              HttpLimits limits, Handler handler,
                                                              RefusedHook refused) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos)
    return absl::InvalidArgumentError("address: not host:port: " + addr);
  std::string host = addr.substr(0, colon), port = addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
      rc != 0) {
    return absl::InvalidArgumentError(absl::StrCat("address ", addr, ": ", gai_strerror(rc)));
  }
  std::unique_ptr<HttpServer> s(new HttpServer(limits, std::move(handler), std::move(refused)));
  int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  bool ok = fd >= 0 && bind(fd, res->ai_addr, res->ai_addrlen) == 0 && listen(fd, 128) == 0;
  freeaddrinfo(res);
  if (!ok) {
    std::string err = strerror(errno);
    if (fd >= 0) close(fd);
    return absl::UnavailableError(absl::StrCat("cannot listen on ", addr, ": ", err));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  s->port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  s->listen_fd_ = fd;
  if (pipe2(s->wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    close(fd);
    return absl::InternalError("pipe: " + std::string(strerror(errno)));
  }
  for (int i = 0; i < limits.max_connections; ++i)
    s->workers_.emplace_back([p = s.get()] { p->Worker(); });
  s->acceptor_ = std::thread([p = s.get()] { p->AcceptLoop(); });
  return s;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    // Unblock every connection thread; its own close comes after.
    for (int fd : serving_) shutdown(fd, SHUT_RDWR);
  }
  if (wake_[1] >= 0) (void)!write(wake_[1], "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& w : workers_) w.join();
  absl::MutexLock lock(&mu_);
  for (int fd : queue_) close(fd);
  queue_.clear();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_[0] >= 0) close(wake_[0]);
  if (wake_[1] >= 0) close(wake_[1]);
  listen_fd_ = wake_[0] = wake_[1] = -1;
}

void HttpServer::AcceptLoop() {
  while (true) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR) break;
    if (p[1].revents) break;
    if (!(p[0].revents & POLLIN)) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      // Out of descriptors: the listening socket stays readable, so wait instead of spinning.
      if (errno == EMFILE || errno == ENFILE)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    bool busy;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) {
        close(fd);
        break;
      }
      busy = queue_.size() + serving_.size() >= static_cast<size_t>(limits_.max_connections);
      if (!busy) queue_.push_back(fd);
    }
    if (busy) {
      // Answered here, without waiting for the request: a full server must not queue clients.
      static const std::string kBusy =
          Serialize(ErrorResponse(503, "too many connections; retry shortly"));
      (void)!send(fd, kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      // No linger here (the acceptor must not wait): drop what already arrived, then close.
      shutdown(fd, SHUT_WR);
      char buf[16 * 1024];
      while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
      }
      close(fd);
      if (refused_) refused_("busy");
    }
  }
}

void HttpServer::Worker() {
  while (true) {
    int fd;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &HttpServer::HasWork));
      if (stopping_) return;
      fd = queue_.front();
      queue_.pop_front();
      serving_.insert(fd);
    }
    Serve(fd);
    absl::MutexLock lock(&mu_);
    serving_.erase(fd);
    close(fd);  // under the lock, so Stop never shuts down a number the kernel handed out again
  }
}

bool HttpServer::HasWork() const { return stopping_ || !queue_.empty(); }

// Answers one request on `fd`; the worker closes it.
void HttpServer::Serve(int fd) {
  absl::Time deadline = absl::Now() + limits_.read_timeout;
  std::string buf;
  size_t head_end = std::string::npos;
  // The head must arrive complete within read_timeout, however slowly it trickles in.
  while (head_end == std::string::npos) {
    if (buf.size() > limits_.max_header_bytes) {
      (void)SendAll(fd, Serialize(ErrorResponse(431, "request head too large")),
                    absl::Now() + limits_.read_timeout);
      if (refused_) refused_("bad_request");
      Linger(fd, kLingerTime);
      return;
    }
    char chunk[4096];
    ssize_t r = RecvBy(fd, chunk, sizeof(chunk), deadline);
    if (r == -2) {
      (void)SendAll(fd, Serialize(ErrorResponse(408, "request not received in time")),
                    absl::Now() + absl::Seconds(1));
      if (refused_) refused_("timeout");
      return;
    }
    if (r <= 0) return;
    size_t from = buf.size() >= 3 ? buf.size() - 3 : 0;
    buf.append(chunk, static_cast<size_t>(r));
    head_end = buf.find("\r\n\r\n", from);
  }
  HttpRequest req;
  HttpResponse resp;
  if (head_end > limits_.max_header_bytes ||
      !ParseHead(absl::string_view(buf).substr(0, head_end), &req)) {
    resp = ErrorResponse(400, "malformed HTTP request");
    if (refused_) refused_("bad_request");
  } else {
    SocketBodyReader body(fd, req, buf.substr(head_end + 4), limits_);
    resp = handler_(req, body);
  }
  if (SendAll(fd, Serialize(resp), absl::Now() + limits_.read_timeout)) Linger(fd, kLingerTime);
}

}  // namespace hotline

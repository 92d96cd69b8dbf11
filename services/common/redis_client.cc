#include "services/common/redis_client.h"

#include <hiredis/hiredis.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace hotline {
namespace {

constexpr std::chrono::milliseconds kMinBackoff(100);
constexpr std::chrono::milliseconds kMaxBackoff(5000);

RedisReply Copy(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:  // hiredis 0.14 speaks RESP2 only
      out.type = RedisReply::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Copy(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

}  // namespace

absl::StatusOr<RedisEndpoint> ParseRedisUrl(const std::string& url) {
  const std::string scheme = "redis://";
  if (url.rfind(scheme, 0) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("REDIS_URL: '", url, "' must start with redis://"));
  }
  RedisEndpoint ep;
  std::string rest = url.substr(scheme.size());
  auto at = rest.rfind('@');
  if (at != std::string::npos) {
    std::string auth = rest.substr(0, at);
    auto colon = auth.find(':');
    ep.password = colon == std::string::npos ? auth : auth.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  auto slash = rest.find('/');
  if (slash != std::string::npos) {
    std::string db = rest.substr(slash + 1);
    if (!db.empty() && (!absl::SimpleAtoi(db, &ep.db) || ep.db < 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("REDIS_URL: database '", db, "' is not a number"));
    }
    rest = rest.substr(0, slash);
  }
  auto colon = rest.rfind(':');
  if (colon != std::string::npos) {
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &ep.port) || ep.port <= 0 || ep.port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("REDIS_URL: port in '", url, "' is not valid"));
    }
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return absl::InvalidArgumentError("REDIS_URL: host is empty");
  ep.host = rest;
  return ep;
}

RedisClient::RedisClient(RedisEndpoint endpoint, std::chrono::milliseconds timeout,
                         size_t pool_size)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {
  for (size_t i = 0; i < std::max<size_t>(1, pool_size); ++i) {
    conns_.push_back(std::make_unique<Conn>());
  }
}

RedisClient::~RedisClient() {
  for (auto& c : conns_) {
    std::lock_guard<std::mutex> lock(c->mu);
    Drop(*c);
  }
}

void RedisClient::Drop(Conn& c) {
  if (c.ctx != nullptr) redisFree(c.ctx);
  c.ctx = nullptr;
}

std::unique_lock<std::mutex> RedisClient::Acquire(Conn** conn) {
  const size_t n = conns_.size();
  const size_t first = next_.fetch_add(1) % n;
  for (size_t i = 0; i < n; ++i) {
    Conn* c = conns_[(first + i) % n].get();
    std::unique_lock<std::mutex> lock(c->mu, std::try_to_lock);
    if (lock.owns_lock()) {
      *conn = c;
      return lock;
    }
  }
  *conn = conns_[first].get();
  return std::unique_lock<std::mutex>((*conn)->mu);
}

absl::Status RedisClient::EnsureConnected(Conn& conn) {
  if (conn.ctx != nullptr) return absl::OkStatus();
  auto now = std::chrono::steady_clock::now();
  if (now < conn.next_attempt) {
    return absl::UnavailableError(absl::StrCat("redis ", endpoint_.host, ":", endpoint_.port,
                                               " unreachable (reconnect backing off)"));
  }
  struct timeval tv;
  tv.tv_sec = timeout_.count() / 1000;
  tv.tv_usec = (timeout_.count() % 1000) * 1000;
  redisContext* c = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv);
  auto fail = [&](const std::string& why) {
    if (c != nullptr) redisFree(c);
    conn.backoff =
        std::min(kMaxBackoff, conn.backoff.count() == 0 ? kMinBackoff : conn.backoff * 2);
    conn.next_attempt = now + conn.backoff;
    return absl::UnavailableError(
        absl::StrCat("redis ", endpoint_.host, ":", endpoint_.port, " unreachable: ", why));
  };
  if (c == nullptr) return fail("out of memory");
  if (c->err) return fail(c->errstr);
  redisSetTimeout(c, tv);
  conn.ctx = c;
  std::vector<RedisCommand> setup;
  if (!endpoint_.password.empty()) setup.push_back({"AUTH", endpoint_.password});
  if (endpoint_.db != 0) setup.push_back({"SELECT", std::to_string(endpoint_.db)});
  for (const auto& cmd : setup) {
    auto r = CommandOn(conn, cmd);
    if (!r.ok()) {
      Drop(conn);
      c = nullptr;
      return fail(std::string(r.status().message()));
    }
  }
  conn.backoff = std::chrono::milliseconds(0);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RedisReply>> RedisClient::PipelineOn(
    Conn& conn, const std::vector<RedisCommand>& cmds) {
  if (auto s = EnsureConnected(conn); !s.ok()) return s;
  for (const auto& cmd : cmds) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    argv.reserve(cmd.size());
    lens.reserve(cmd.size());
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(conn.ctx, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  std::vector<RedisReply> replies;
  replies.reserve(cmds.size());
  absl::Status first_error;
  for (size_t i = 0; i < cmds.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(conn.ctx, &raw) != REDIS_OK || raw == nullptr) {
      std::string why = conn.ctx->errstr;
      Drop(conn);
      return absl::UnavailableError(absl::StrCat("redis connection lost: ", why));
    }
    auto* r = static_cast<redisReply*>(raw);
    if (r->type == REDIS_REPLY_ERROR && first_error.ok()) {
      first_error = absl::InternalError(absl::StrCat("redis ", cmds[i].empty() ? "" : cmds[i][0],
                                                     ": ", std::string(r->str, r->len)));
    }
    replies.push_back(Copy(r));
    freeReplyObject(r);
  }
  if (!first_error.ok()) return first_error;
  return replies;
}

absl::StatusOr<RedisReply> RedisClient::CommandOn(Conn& conn, const RedisCommand& cmd) {
  auto r = PipelineOn(conn, {cmd});
  if (!r.ok()) return r.status();
  return std::move((*r)[0]);
}

absl::StatusOr<RedisReply> RedisClient::Command(const RedisCommand& cmd) {
  Conn* c = nullptr;
  auto lock = Acquire(&c);
  return CommandOn(*c, cmd);
}

absl::StatusOr<std::vector<RedisReply>> RedisClient::Pipeline(
    const std::vector<RedisCommand>& cmds) {
  Conn* c = nullptr;
  auto lock = Acquire(&c);
  return PipelineOn(*c, cmds);
}

namespace {

absl::StatusOr<std::vector<RedisReply>> ExecResults(RedisReply exec) {
  for (const auto& e : exec.elements) {
    if (e.type == RedisReply::Type::kError) {
      return absl::InternalError(absl::StrCat("redis EXEC: ", e.str));
    }
  }
  return std::move(exec.elements);
}

}  // namespace

absl::StatusOr<std::vector<RedisReply>> RedisClient::Transaction(
    const std::vector<RedisCommand>& cmds) {
  Conn* c = nullptr;
  auto lock = Acquire(&c);
  std::vector<RedisCommand> all;
  all.reserve(cmds.size() + 2);
  all.push_back({"MULTI"});
  all.insert(all.end(), cmds.begin(), cmds.end());
  all.push_back({"EXEC"});
  auto r = PipelineOn(*c, all);
  if (!r.ok()) {
    // A queued command was rejected (EXECABORT): Redis applied nothing. Make sure no MULTI
    // state lingers on this connection.
    if (c->ctx != nullptr) (void)PipelineOn(*c, {{"DISCARD"}});
    return r.status();
  }
  RedisReply& exec = r->back();
  if (exec.type != RedisReply::Type::kArray) {
    return absl::AbortedError("redis EXEC returned no results");
  }
  return ExecResults(std::move(exec));
}

absl::StatusOr<std::vector<RedisReply>> RedisClient::WatchTransaction(
    const std::vector<std::string>& keys, const Plan& plan, int max_attempts) {
  Conn* c = nullptr;
  auto lock = Acquire(&c);
  Reader reader = [this, c](const RedisCommand& cmd) { return CommandOn(*c, cmd); };
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    RedisCommand watch = {"WATCH"};
    watch.insert(watch.end(), keys.begin(), keys.end());
    if (auto w = CommandOn(*c, watch); !w.ok()) return w.status();
    auto cmds = plan(reader);
    if (!cmds.ok() || cmds->empty()) {
      if (c->ctx != nullptr) (void)CommandOn(*c, {"UNWATCH"});
      if (!cmds.ok()) return cmds.status();
      return std::vector<RedisReply>{};
    }
    std::vector<RedisCommand> all;
    all.push_back({"MULTI"});
    all.insert(all.end(), cmds->begin(), cmds->end());
    all.push_back({"EXEC"});
    auto r = PipelineOn(*c, all);
    if (!r.ok()) {
      if (c->ctx != nullptr) (void)PipelineOn(*c, {{"DISCARD"}});
      return r.status();
    }
    RedisReply& exec = r->back();
    if (exec.type == RedisReply::Type::kArray) return ExecResults(std::move(exec));
    // EXEC returned nil: a watched key changed between WATCH and EXEC. Plan again.
  }
  return absl::AbortedError("redis transaction kept conflicting; gave up");
}

absl::Status RedisClient::Ping() {
  auto r = Command({"PING"});
  if (!r.ok()) return r.status();
  return absl::OkStatus();
}

}  // namespace hotline

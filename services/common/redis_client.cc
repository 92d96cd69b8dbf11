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
    return absl::InvalidArgumentError(absl::StrCat("REDIS_URL: '", url, "' must start with redis://"));
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
      return absl::InvalidArgumentError(absl::StrCat("REDIS_URL: database '", db, "' is not a number"));
    }
    rest = rest.substr(0, slash);
  }
  auto colon = rest.rfind(':');
  if (colon != std::string::npos) {
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &ep.port) || ep.port <= 0 || ep.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("REDIS_URL: port in '", url, "' is not valid"));
    }
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return absl::InvalidArgumentError("REDIS_URL: host is empty");
  ep.host = rest;
  return ep;
}

RedisClient::RedisClient(RedisEndpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

RedisClient::~RedisClient() {
  std::lock_guard<std::mutex> lock(mu_);
  DropLocked();
}

void RedisClient::DropLocked() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

absl::Status RedisClient::EnsureConnectedLocked() {
  if (ctx_ != nullptr) return absl::OkStatus();
  auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) {
    return absl::UnavailableError(absl::StrCat("redis ", endpoint_.host, ":", endpoint_.port,
                                               " unreachable (reconnect backing off)"));
  }
  struct timeval tv;
  tv.tv_sec = timeout_.count() / 1000;
  tv.tv_usec = (timeout_.count() % 1000) * 1000;
  redisContext* c = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv);
  auto fail = [&](const std::string& why) {
    if (c != nullptr) redisFree(c);
    backoff_ = std::min(kMaxBackoff, backoff_.count() == 0 ? kMinBackoff : backoff_ * 2);
    next_attempt_ = now + backoff_;
    return absl::UnavailableError(
        absl::StrCat("redis ", endpoint_.host, ":", endpoint_.port, " unreachable: ", why));
  };
  if (c == nullptr) return fail("out of memory");
  if (c->err) return fail(c->errstr);
  redisSetTimeout(c, tv);
  ctx_ = c;
  std::vector<RedisCommand> setup;
  if (!endpoint_.password.empty()) setup.push_back({"AUTH", endpoint_.password});
  if (endpoint_.db != 0) setup.push_back({"SELECT", std::to_string(endpoint_.db)});
  for (const auto& cmd : setup) {
    auto r = CommandLocked(cmd);
    if (!r.ok()) {
      DropLocked();
      c = nullptr;
      return fail(std::string(r.status().message()));
    }
  }
  backoff_ = std::chrono::milliseconds(0);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RedisReply>> RedisClient::PipelineLocked(
    const std::vector<RedisCommand>& cmds) {
  if (auto s = EnsureConnectedLocked(); !s.ok()) return s;
  for (const auto& cmd : cmds) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    argv.reserve(cmd.size());
    lens.reserve(cmd.size());
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  std::vector<RedisReply> replies;
  replies.reserve(cmds.size());
  absl::Status first_error;
  for (size_t i = 0; i < cmds.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      std::string why = ctx_->errstr;
      DropLocked();
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

absl::StatusOr<RedisReply> RedisClient::CommandLocked(const RedisCommand& cmd) {
  auto r = PipelineLocked({cmd});
  if (!r.ok()) return r.status();
  return std::move((*r)[0]);
}

absl::StatusOr<RedisReply> RedisClient::Command(const RedisCommand& cmd) {
  std::lock_guard<std::mutex> lock(mu_);
  return CommandLocked(cmd);
}

absl::StatusOr<std::vector<RedisReply>> RedisClient::Pipeline(
    const std::vector<RedisCommand>& cmds) {
  std::lock_guard<std::mutex> lock(mu_);
  return PipelineLocked(cmds);
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
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RedisCommand> all;
  all.reserve(cmds.size() + 2);
  all.push_back({"MULTI"});
  all.insert(all.end(), cmds.begin(), cmds.end());
  all.push_back({"EXEC"});
  auto r = PipelineLocked(all);
  if (!r.ok()) {
    // A queued command was rejected (EXECABORT): Redis applied nothing. Make sure no MULTI
    // state lingers on this connection.
    if (ctx_ != nullptr) (void)PipelineLocked({{"DISCARD"}});
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
  std::lock_guard<std::mutex> lock(mu_);
  Reader reader = [this](const RedisCommand& c) { return CommandLocked(c); };
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    RedisCommand watch = {"WATCH"};
    watch.insert(watch.end(), keys.begin(), keys.end());
    if (auto w = CommandLocked(watch); !w.ok()) return w.status();
    auto cmds = plan(reader);
    if (!cmds.ok() || cmds->empty()) {
      (void)CommandLocked({"UNWATCH"});
      if (!cmds.ok()) return cmds.status();
      return std::vector<RedisReply>{};
    }
    std::vector<RedisCommand> all;
    all.push_back({"MULTI"});
    all.insert(all.end(), cmds->begin(), cmds->end());
    all.push_back({"EXEC"});
    auto r = PipelineLocked(all);
    if (!r.ok()) {
      if (ctx_ != nullptr) (void)PipelineLocked({{"DISCARD"}});
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

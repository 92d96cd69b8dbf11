// Against a real redis-server started on a free port.
#include "services/common/redis_client.h"

#include <catch2/catch.hpp>

#include "tests/support/processes.h"

using namespace hotline;
using hotline::testing::RedisServer;

namespace {
RedisEndpoint Local(int port) {
  RedisEndpoint e;
  e.port = port;
  return e;
}
}  // namespace

TEST_CASE("commands, pipelines and binary-safe values") {
  RedisServer server;
  RedisClient redis(Local(server.port()));
  const std::string binary("a\0b\r\n", 5);
  REQUIRE(redis.Command({"SET", "k", binary}).ok());
  auto got = redis.Command({"GET", "k"});
  REQUIRE(got.ok());
  CHECK(got->str == binary);
  auto replies = redis.Pipeline({{"INCR", "n"}, {"INCR", "n"}, {"GET", "missing"}});
  REQUIRE(replies.ok());
  CHECK((*replies)[1].integer == 2);
  CHECK((*replies)[2].IsNil());
}

TEST_CASE("a transaction with a rejected command applies nothing") {
  RedisServer server;
  RedisClient redis(Local(server.port()));
  auto bad = redis.Transaction({{"SET", "a", "1"}, {"NOSUCHCOMMAND"}, {"SET", "b", "2"}});
  CHECK_FALSE(bad.ok());
  CHECK(redis.Command({"EXISTS", "a", "b"})->integer == 0);
  // The connection is still usable afterwards.
  auto ok = redis.Transaction({{"SET", "a", "1"}, {"INCR", "c"}});
  REQUIRE(ok.ok());
  CHECK((*ok)[1].integer == 1);
}

TEST_CASE("a watched transaction plans again when its key changed underneath") {
  RedisServer server;
  RedisClient redis(Local(server.port()));
  RedisClient other(Local(server.port()));
  REQUIRE(redis.Command({"SET", "balance", "10"}).ok());
  int plans = 0;
  auto r = redis.WatchTransaction(
      {"balance"},
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        auto v = read({"GET", "balance"});
        if (!v.ok()) return v.status();
        if (++plans == 1) REQUIRE(other.Command({"SET", "balance", "20"}).ok());  // a racing writer
        return std::vector<RedisCommand>{{"SET", "balance", std::to_string(std::stoi(v->str) + 1)}};
      });
  REQUIRE(r.ok());
  CHECK(plans == 2);
  CHECK(redis.Command({"GET", "balance"})->str == "21");
}

TEST_CASE("a dead server gives UNAVAILABLE, and the client reconnects when it is back") {
  RedisServer server;
  RedisClient redis(Local(server.port()), std::chrono::milliseconds(500));
  REQUIRE(redis.Ping().ok());
  server.Stop();
  auto down = redis.Command({"PING"});
  REQUIRE_FALSE(down.ok());
  CHECK(down.status().code() == absl::StatusCode::kUnavailable);
  server.Start();
  CHECK(hotline::testing::WaitFor([&] { return redis.Ping().ok(); }, std::chrono::seconds(10)));
}

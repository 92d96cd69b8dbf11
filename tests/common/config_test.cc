#include "services/common/config.h"

#include <catch2/catch.hpp>
#include <map>

#include "services/common/redis_client.h"

using hotline::EnvReader;
using hotline::LoadCommonConfig;

namespace {

EnvReader FakeEnv(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return EnvReader([shared](const std::string& n) -> const char* {
    auto it = shared->find(n);
    return it == shared->end() ? nullptr : it->second.c_str();
  });
}

}  // namespace

TEST_CASE("defaults apply when nothing is set") {
  auto c = LoadCommonConfig("intake", FakeEnv({{"HOTLINE_INSTANCE_ID", "i1"}}));
  REQUIRE(c.ok());
  CHECK(c->grpc_addr == "0.0.0.0:50051");
  CHECK(c->metrics_addr == "0.0.0.0:9464");
  CHECK(c->kafka_group_id == "hotline-intake");
  CHECK(c->session_timeout_ms == 45000);
  CHECK(c->instance_id == "i1");
}

TEST_CASE("values from the environment are parsed into their types") {
  auto c = LoadCommonConfig("dispatch", FakeEnv({{"KAFKA_SESSION_TIMEOUT_MS", "6000"},
                                                 {"KAFKA_HEARTBEAT_INTERVAL_MS", "500"},
                                                 {"KAFKA_BROKERS", "a:1,b:2"},
                                                 {"HOTLINE_GRPC_ADDR", "127.0.0.1:7001"}}));
  REQUIRE(c.ok());
  CHECK(c->session_timeout_ms == 6000);
  CHECK(c->heartbeat_interval_ms == 500);
  CHECK(c->kafka_brokers == "a:1,b:2");
  CHECK(c->grpc_addr == "127.0.0.1:7001");
}

TEST_CASE("a bad value stops start-up with a message naming the variable") {
  struct Case {
    const char* var;
    const char* value;
    const char* says;
  };
  for (const Case& k :
       {Case{"KAFKA_SESSION_TIMEOUT_MS", "soon", "not an integer"},
        Case{"KAFKA_SESSION_TIMEOUT_MS", "10", "outside"},
        Case{"HOTLINE_GRPC_ADDR", "localhost", "host:port"},
        Case{"REDIS_URL", "http://x", "redis://"}, Case{"KAFKA_BROKERS", "a:1,b", "host:port"},
        Case{"HOTLINE_LOG_LEVEL", "loud", "debug, info"}}) {
    auto c = LoadCommonConfig("survey", FakeEnv({{k.var, k.value}}));
    INFO(k.var << "=" << k.value);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(c.status().message()), Catch::Contains(k.var));
    CHECK_THAT(std::string(c.status().message()), Catch::Contains(k.says));
  }
}

TEST_CASE("heartbeat must be shorter than the session timeout") {
  auto c = LoadCommonConfig("survey", FakeEnv({{"KAFKA_SESSION_TIMEOUT_MS", "6000"},
                                               {"KAFKA_HEARTBEAT_INTERVAL_MS", "6000"}}));
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(std::string(c.status().message()), Catch::Contains("KAFKA_HEARTBEAT_INTERVAL_MS"));
}

TEST_CASE("booleans accept the usual spellings and reject others") {
  auto env = FakeEnv({{"A", "yes"}, {"B", "0"}, {"C", "maybe"}});
  CHECK(*env.Bool("A", false));
  CHECK_FALSE(*env.Bool("B", true));
  CHECK(*env.Bool("UNSET", true));
  CHECK_FALSE(env.Bool("C", true).ok());
}

TEST_CASE("redis URLs are parsed with password, port and database") {
  auto e = hotline::ParseRedisUrl("redis://:s3cret@redis-intake:6380/2");
  REQUIRE(e.ok());
  CHECK(e->host == "redis-intake");
  CHECK(e->port == 6380);
  CHECK(e->db == 2);
  CHECK(e->password == "s3cret");
  auto d = hotline::ParseRedisUrl("redis://localhost");
  REQUIRE(d.ok());
  CHECK(d->port == 6379);
  CHECK(d->db == 0);
  CHECK_FALSE(hotline::ParseRedisUrl("redis://host:port").ok());
  CHECK_FALSE(hotline::ParseRedisUrl("redis://host/x").ok());
  CHECK_FALSE(hotline::ParseRedisUrl("localhost:6379").ok());
}

TEST_CASE("a variable set to empty can mean off, where a setting allows it") {
  auto env = FakeEnv({{"SET_EMPTY", ""}, {"SET", "x:1"}});
  CHECK(*env.StringOrEmpty("SET_EMPTY", "0.0.0.0:8080") == "");
  CHECK(*env.StringOrEmpty("UNSET", "0.0.0.0:8080") == "0.0.0.0:8080");
  CHECK(*env.StringOrEmpty("SET", "d") == "x:1");
  CHECK(*env.String("SET_EMPTY", "fallback") == "fallback");  // String: empty is unset
}

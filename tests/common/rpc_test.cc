#include "services/common/rpc.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "absl/synchronization/notification.h"
#include "hotline/v1/dispatch.pb.h"
#include "hotline/v1/intake.pb.h"
#include "services/common/api_policy.h"
#include "services/common/executor.h"
#include "services/common/log.h"

namespace hotline {
namespace {

ApiPolicy TestPolicy() {
  ApiPolicy p;
  p.methods = {
      {"DepartmentService/AcceptTicket",
       {{Role::kDepartment, Role::kDispatcher}, "department_id", true}},
      {"IntakeService/SubmitRequest", {{Role::kChannel}}},
  };
  p.default_max_bytes = 64;
  p.max_bytes = {{"hotline.v1.SubmitRequestRequest.text", 100},
                 {"hotline.v1.Location.address", 10}};
  p.max_repeated = 3;
  return p;
}

Principal Dept(const std::string& id) { return Principal{"eco-system", Role::kDepartment, id}; }

TEST_CASE("the authorization table denies by default and keeps departments to themselves") {
  const ApiPolicy p = TestPolicy();
  v1::AcceptTicketRequest own;
  own.set_department_id("d-eco");

  auto a = CheckAccess(p, "DepartmentService/AcceptTicket", Dept("d-eco"), own);
  REQUIRE(a.ok());
  CHECK(a->department == "d-eco");

  v1::AcceptTicketRequest empty;  // a department that names no department acts as itself
  a = CheckAccess(p, "DepartmentService/AcceptTicket", Dept("d-eco"), empty);
  REQUIRE(a.ok());
  CHECK(a->department == "d-eco");

  a = CheckAccess(p, "DepartmentService/AcceptTicket", Dept("d-water"), own);
  CHECK(absl::IsPermissionDenied(a.status()));
  CHECK(std::string(a.status().message()).find("d-water may not act for department d-eco") !=
        std::string::npos);

  // A dispatcher acts for the department it names.
  a = CheckAccess(p, "DepartmentService/AcceptTicket", {"duty", Role::kDispatcher, ""}, own);
  REQUIRE(a.ok());
  CHECK(a->department == "d-eco");

  // A role not in the rule, and a method not in the table, are refused.
  CHECK(absl::IsPermissionDenied(
      CheckAccess(p, "DepartmentService/AcceptTicket", {"web", Role::kChannel, ""}, own).status()));
  auto missing = CheckAccess(p, "DepartmentService/ReplyTicket", Dept("d-eco"), own);
  CHECK(absl::IsPermissionDenied(missing.status()));
  CHECK(std::string(missing.status().message()).find("not in this service's authorization table") !=
        std::string::npos);
}

TEST_CASE("input limits name the field, nested fields included") {
  const ApiPolicy p = TestPolicy();
  v1::SubmitRequestRequest r;
  r.set_text(std::string(100, 'a'));
  r.mutable_location()->set_address("0123456789");
  CHECK(CheckLimits(p, r).ok());

  r.set_text(std::string(101, 'a'));
  auto s = CheckLimits(p, r);
  CHECK(absl::IsInvalidArgument(s));
  CHECK(s.message() == "text: is 101 bytes long, at most 100 allowed");

  r.set_text("ok");
  r.mutable_location()->set_address("01234567890");
  s = CheckLimits(p, r);
  CHECK(s.message() == "location.address: is 11 bytes long, at most 10 allowed");

  r.mutable_location()->set_address("");
  r.set_idempotency_key(std::string(65, 'k'));  // no entry: the default limit
  s = CheckLimits(p, r);
  CHECK(s.message() == "idempotency_key: is 65 bytes long, at most 64 allowed");
}

TEST_CASE("repeated fields have a maximum count") {
  ApiPolicy p = TestPolicy();
  v1::KnowledgeEntry e;
  for (int i = 0; i < 3; ++i) e.add_tags("t");
  CHECK(CheckLimits(p, e).ok());
  e.add_tags("t");
  CHECK(CheckLimits(p, e).message() == "tags: has 4 elements, at most 3 allowed");
  e.clear_tags();
  e.add_tags(std::string(65, 'x'));
  CHECK(CheckLimits(p, e).message() == "tags[0]: is 65 bytes long, at most 64 allowed");
}

TEST_CASE("page tokens round-trip and anything else is INVALID_ARGUMENT") {
  v1::PageRequest req;
  auto first = ReadPage(req, 50, 500);
  REQUIRE(first.ok());
  CHECK(first->offset == 0);
  CHECK(first->size == 50);

  req.set_page_size(10000);
  req.set_page_token(NextPageToken(Page{20, 10}));
  auto next = ReadPage(req, 50, 500);
  REQUIRE(next.ok());
  CHECK(next->offset == 30);
  CHECK(next->size == 500);  // clamped

  for (const std::string bad :
       {"30", "garbage", "cDE6LTU", "!!!!", "cDE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5"}) {
    req.set_page_token(bad);
    auto r = ReadPage(req, 50, 500);
    INFO(bad);
    CHECK(absl::IsInvalidArgument(r.status()));
    CHECK(r.status().message() == "page.page_token: not a token this API issued");
  }
}

TEST_CASE("clients never see backend error text") {
  auto s = ClientStatus(absl::InternalError("redis LRANGE: ERR value is not an integer"), "abc123");
  CHECK(s.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(s.error_message() == "internal error (request id abc123)");
  s = ClientStatus(absl::UnavailableError("redis connection lost: Connection reset"), "r1");
  CHECK(s.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(s.error_message().find("redis") == std::string::npos);
  CHECK(s.error_message().find("r1") != std::string::npos);
  // Our own messages pass as they are.
  s = ClientStatus(absl::InvalidArgumentError("reason: is required"), "r2");
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "reason: is required");
  s = ClientStatus(absl::FailedPreconditionError("ticket is CLOSED"), "r3");
  CHECK(s.error_message() == "ticket is CLOSED");
}

TEST_CASE("only well-formed traceparents are kept") {
  const std::string ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  CHECK(ValidTraceparent(ok) == ok);
  CHECK(ValidTraceparent("").empty());
  CHECK(ValidTraceparent("00-abc-def-01").empty());
  CHECK(ValidTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").empty());
  CHECK(ValidTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01").empty());
  CHECK(ValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01").empty());
  CHECK(ValidTraceparent(ok + "\n{\"injected\":1}").empty());
  ScopedTrace t("not a trace");
  CHECK(CurrentTrace().empty());
}

TEST_CASE("a full executor refuses at once instead of queueing") {
  BoundedExecutor ex(1, 2);
  absl::Notification release;
  std::atomic<int> ran{0};
  REQUIRE(ex.TrySubmit([&] {
    release.WaitForNotification();
    ++ran;
  }));
  // Wait until the worker holds the first task, so the queue is empty again.
  for (int i = 0; i < 1000 && ex.busy() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(ex.busy() == 1);
  CHECK(ex.TrySubmit([&] { ++ran; }));
  CHECK(ex.TrySubmit([&] { ++ran; }));
  auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(ex.TrySubmit([&] { ++ran; }));  // queue of 2 is full
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
  CHECK(ex.queued() == 2);
  release.Notify();
  for (int i = 0; i < 1000 && ran.load() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(ran.load() == 3);
}

}  // namespace
}  // namespace hotline

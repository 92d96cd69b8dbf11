#include "services/intake/validation.h"

#include <catch2/catch.hpp>

using namespace hotline;
using hotline::intake::NormalizePhone;
using hotline::intake::ValidateSubmission;

namespace {

v1::SubmitRequestRequest Valid() {
  v1::SubmitRequestRequest r;
  r.set_channel(v1::CHANNEL_WEB);
  r.set_text("东湖路5号的路灯坏了");
  r.set_idempotency_key("k-1");
  r.mutable_contact()->set_phone("13812345678");
  return r;
}

// The error must be INVALID_ARGUMENT and start with the field path.
void ExpectRejected(const v1::SubmitRequestRequest& r, const std::string& field) {
  auto s = ValidateSubmission(r);
  INFO(s.ToString());
  REQUIRE(absl::IsInvalidArgument(s));
  CHECK(std::string(s.message()).rfind(field + ":", 0) == 0);
}

}  // namespace

TEST_CASE("phone numbers are normalised or rejected with the field named") {
  CHECK(*NormalizePhone("p", "138 1234 5678") == "+8613812345678");
  CHECK(*NormalizePhone("p", "+86 138-1234-5678") == "+8613812345678");
  CHECK(*NormalizePhone("p", "020-83838383") == "+86-20-83838383");
  CHECK(*NormalizePhone("p", "0769-22223333-801") == "+86-769-22223333-801");
  CHECK(*NormalizePhone("p", "010 12345678") == "+86-10-12345678");
  CHECK(*NormalizePhone("p", "+44 20 7123 4567") == "+442071234567");
  for (const char* bad : {"12812345678", "1381234567", "abc", "+0123", "020-123", "12345"}) {
    INFO(bad);
    auto r = NormalizePhone("contact.phone", bad);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.status().message()).rfind("contact.phone:", 0) == 0);
  }
}

TEST_CASE("a valid submission passes") { CHECK(ValidateSubmission(Valid()).ok()); }

TEST_CASE("every malformed field is named") {
  auto r = Valid();
  r.set_channel(v1::CHANNEL_UNSPECIFIED);
  ExpectRejected(r, "channel");
  r = Valid();
  r.set_idempotency_key("");
  ExpectRejected(r, "idempotency_key");
  r = Valid();
  r.set_text("\xff\xfe broken");
  ExpectRejected(r, "text");
  r = Valid();
  r.set_text("   ");
  ExpectRejected(r, "text");
  r = Valid();
  r.set_text(std::string(2001 * 3, 'a'));
  ExpectRejected(r, "text");
  r = Valid();
  r.mutable_contact()->set_phone("12345");
  ExpectRejected(r, "contact.phone");
  r = Valid();
  r.mutable_contact()->set_email("not-an-email");
  ExpectRejected(r, "contact.email");
  r = Valid();
  r.mutable_location()->set_latitude(123);
  ExpectRejected(r, "location.latitude");
  r = Valid();
  r.mutable_location()->set_address(std::string(201 * 3, 'x'));
  ExpectRejected(r, "location.address");
}

TEST_CASE("each channel requires what it needs to answer the citizen") {
  auto r = Valid();
  r.set_channel(v1::CHANNEL_PHONE);
  ExpectRejected(r, "call_id");
  r.set_call_id("call-1");
  CHECK(ValidateSubmission(r).ok());
  r = Valid();
  r.set_channel(v1::CHANNEL_SMS);
  r.mutable_contact()->clear_phone();
  ExpectRejected(r, "contact.phone");
  r = Valid();
  r.set_channel(v1::CHANNEL_EMAIL);
  ExpectRejected(r, "contact.email");
  r = Valid();
  r.set_channel(v1::CHANNEL_TRANSFER_110);
  ExpectRejected(r, "external_ref");
  r = Valid();
  r.mutable_contact()->clear_phone();
  ExpectRejected(r, "contact");
  r.set_anonymous(true);
  CHECK(ValidateSubmission(r).ok());
}

#include "services/common/log.h"

#include <catch2/catch.hpp>

using namespace hotline;

TEST_CASE("phone numbers are masked to prefix and last four digits") {
  CHECK(MaskPhone("13812341234") == "138****1234");
  CHECK(MaskPhone("+86 138 1234 5678") == "138****5678");
  CHECK(MaskPhone("020-87654321") == "020****4321");
  CHECK(MaskPhone("12345") == "***45");
  CHECK(MaskPhone("") == "");
}

TEST_CASE("names keep only their first character, counted in UTF-8 code points") {
  CHECK(MaskName("张三丰") == "张**");
  CHECK(MaskName("John Smith") == "J*********");
  CHECK(MaskName("李") == "李");
  CHECK(MaskName("") == "");
}

TEST_CASE("phone numbers inside free text are redacted, other numbers kept") {
  CHECK(RedactPhones("请回电13812341234谢谢") == "请回电138****1234谢谢");
  CHECK(RedactPhones("call 020-8765 4321 after 5") == "call 020****4321 after 5");
  CHECK(RedactPhones("3号楼502室") == "3号楼502室");
}

TEST_CASE("a log line is one JSON object with escaped values") {
  std::string line = FormatLogLine("2026-11-24T10:00:00.000Z", LogLevel::kWarn, "intake", "pod-1",
                                   "bad \"input\"\n", {{"field", "phone"}, {"tab", "a\tb"}});
  CHECK(line ==
        "{\"ts\":\"2026-11-24T10:00:00.000Z\",\"level\":\"warn\",\"service\":\"intake\","
        "\"instance\":\"pod-1\",\"msg\":\"bad \\\"input\\\"\\n\",\"field\":\"phone\","
        "\"tab\":\"a\\tb\"}");
  CHECK(line.find('\n') == std::string::npos);
  CHECK(JsonEscape(std::string("\x01", 1)) == "\\u0001");
}

TEST_CASE("log lines carry the trace of the request or event being handled") {
  const std::string tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  CHECK(hotline::FormatLogLine("t", hotline::LogLevel::kInfo, "svc", "", "m", {}).find("trace") ==
        std::string::npos);
  {
    hotline::ScopedTrace outer(tp);
    auto line = hotline::FormatLogLine("t", hotline::LogLevel::kInfo, "svc", "", "m", {});
    CHECK(line.find("\"trace\":\"" + tp + "\"") != std::string::npos);
    {
      hotline::ScopedTrace inner("");
      CHECK(hotline::CurrentTrace().empty());
    }
    CHECK(hotline::CurrentTrace() == tp);
  }
  CHECK(hotline::CurrentTrace().empty());
}

#include "services/survey/survey_policy.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_format.h"

using namespace hotline;
using namespace hotline::survey;

namespace {

const char* kPolicyFile = HOTLINE_REPO_DIR "/deploy/survey/policy.tsv";

// Writes `body` to a temporary policy file, loads it, removes it; returns the error text ("" on
// success) and the path used.
std::string LoadError(const std::string& body, std::string* path_out = nullptr) {
  static int n = 0;
  const std::string path =
      absl::StrFormat("/tmp/hotline_survey_policy_%d_%d.tsv", static_cast<int>(getpid()), ++n);
  {
    std::ofstream out(path);
    out << body;
  }
  auto t = SurveyPolicyTable::LoadFile(path);
  std::remove(path.c_str());
  if (path_out) *path_out = path;
  if (t.ok()) return "";
  CHECK(absl::IsInvalidArgument(t.status()));
  return std::string(t.status().message());
}

const std::string kGood =
    "complaint\t100%\t8h\tall\t08:00-21:00\t10m\tcalendar\t3\t4h\tsms,ivr\t不满意\n";

}  // namespace

TEST_CASE("the shipped survey policy loads and says what the issue asks") {
  auto t = SurveyPolicyTable::LoadFile(kPolicyFile);
  REQUIRE(t.ok());
  const SurveyPolicy* complaint = (*t)->Find(v1::TICKET_TYPE_COMPLAINT);
  REQUIRE(complaint);
  CHECK(complaint->share_bp == 10000);
  CHECK(complaint->max_attempts == 3);
  CHECK(complaint->window_start_minute == 8 * 60);
  CHECK(complaint->window_end_minute == 21 * 60);
  CHECK(complaint->within == absl::Hours(8));
  CHECK_FALSE(complaint->zone.has_value());  // the calendar's zone
  CHECK(complaint->channels ==
        std::vector<ContactChannel>{ContactChannel::kSms, ContactChannel::kIvr,
                                    ContactChannel::kWechat, ContactChannel::kEmail});
  CHECK(complaint->negative_at_or_below == 2);
  CHECK((*t)->Find(v1::TICKET_TYPE_HELP)->share_bp == 10000);
  CHECK((*t)->Find(v1::TICKET_TYPE_CONSULTATION)->share_bp == 3000);
  CHECK((*t)->Find(v1::TICKET_TYPE_PRAISE)->share_bp == 0);
  // A type without a row falls back to "*".
  REQUIRE((*t)->Find(v1::TICKET_TYPE_UNSPECIFIED));
  CHECK((*t)->Find(v1::TICKET_TYPE_UNSPECIFIED)->type == "*");
}

TEST_CASE("policy file errors name the file, the line and the field") {
  std::string path;
  CHECK(LoadError("# header\n" + kGood, &path).empty());

  std::string e = LoadError("# header\n\n" + kGood + "help\t100%\t8h\n", &path);
  CHECK_THAT(e, Catch::StartsWith(path + ":4: expected 11 columns"));

  struct Case {
    std::string row;
    std::string field;
  };
  const Case cases[] = {
      {"ticket\t100%\t8h\tall\t08:00-21:00\t10m\tcalendar\t3\t4h\tsms\t不满意", "type"},
      {"complaint\t130%\t8h\tall\t08:00-21:00\t10m\tcalendar\t3\t4h\tsms\t不满意", "share"},
      {"complaint\t30\t8h\tall\t08:00-21:00\t10m\tcalendar\t3\t4h\tsms\t不满意", "share"},
      {"complaint\t100%\t2d\tall\t08:00-21:00\t10m\tcalendar\t3\t4h\tsms\t不满意", "within"},
      {"complaint\t100%\t8h\tsome\t08:00-21:00\t10m\tcalendar\t3\t4h\tsms\t不满意", "days"},
      {"complaint\t100%\t8h\tall\t21:00-08:00\t10m\tcalendar\t3\t4h\tsms\t不满意", "window"},
      {"complaint\t100%\t8h\tall\t8-21\t10m\tcalendar\t3\t4h\tsms\t不满意", "window"},
      {"complaint\t100%\t8h\tall\t08:00-09:00\t2h\tcalendar\t3\t4h\tsms\t不满意", "contact_time"},
      {"complaint\t100%\t8h\tall\t08:00-21:00\t10m\tMars/Olympus\t3\t4h\tsms\t不满意", "zone"},
      {"complaint\t100%\t8h\tall\t08:00-21:00\t10m\tcalendar\tthree\t4h\tsms\t不满意", "attempts"},
      {"complaint\t100%\t8h\tall\t08:00-21:00\t10m\tcalendar\t0\t4h\tsms\t不满意", "attempts"},
      {"complaint\t100%\t8h\tall\t08:00-21:00\t10m\tcalendar\t3\t-4h\tsms\t不满意", "spacing"},
      {"complaint\t100%\t8h\tall\t08:00-21:00\t10m\tcalendar\t3\t4h\tsms,fax\t不满意", "channels"},
      {"complaint\t100%\t8h\tall\t08:00-21:00\t10m\tcalendar\t3\t4h\tsms,sms\t不满意", "channels"},
      {"complaint\t100%\t8h\tall\t08:00-21:00\t10m\tcalendar\t3\t4h\tsms\t还行", "negative_at"},
  };
  for (const auto& c : cases) {
    INFO(c.row);
    e = LoadError("# header\n" + c.row + "\n", &path);
    CHECK_THAT(e, Catch::StartsWith(path + ":2: " + c.field + ": "));
  }
  e = LoadError(kGood + kGood, &path);
  CHECK_THAT(e, Catch::StartsWith(path + ":2: type: second row for complaint"));

  auto missing = SurveyPolicyTable::LoadFile("/nonexistent/policy.tsv");
  CHECK(absl::IsNotFound(missing.status()));
  CHECK_THAT(std::string(missing.status().message()), Catch::Contains("/nonexistent/policy.tsv"));
}

TEST_CASE("an IANA zone in the policy is loaded") {
  std::string path;
  CHECK(LoadError("complaint\t100%\t8h\tall\t08:00-21:00\t10m\tAsia/Shanghai\t3\t4h\tsms\t一般\n",
                  &path)
            .empty());
}

TEST_CASE("sampling is deterministic per ticket id and matches the share") {
  CHECK(SampleBucket("T-2026-000001") == SampleBucket("T-2026-000001"));
  CHECK(IsSampled("anything", 10000));
  CHECK_FALSE(IsSampled("anything", 0));
  for (int share_bp : {3000, 500, 5000}) {
    int sampled = 0;
    for (int i = 0; i < 10000; ++i) {
      const std::string id = absl::StrFormat("T-2026-%06d", i);
      const bool s = IsSampled(id, share_bp);
      CHECK(s == IsSampled(id, share_bp));  // a redelivered event decides the same
      sampled += s;
    }
    INFO("share " << share_bp << " bp: " << sampled << " of 10000 sampled");
    CHECK(std::abs(sampled - share_bp) <= 300);  // within ±3 percentage points
  }
}

TEST_CASE("grades: the five Chinese words and 1..5") {
  CHECK(*ParseGrade("满意") == 5);
  CHECK(*ParseGrade("基本满意") == 4);
  CHECK(*ParseGrade("一般") == 3);
  CHECK(*ParseGrade("不满意") == 2);
  CHECK(*ParseGrade("很不满意") == 1);
  CHECK(*ParseGrade("4") == 4);
  CHECK_FALSE(ParseGrade("0").ok());
  CHECK_FALSE(ParseGrade("6").ok());
  CHECK_FALSE(ParseGrade("ok").ok());
  CHECK(std::string(GradeName(5)) == "满意");
  CHECK(std::string(GradeName(1)) == "很不满意");
  CHECK(std::string(GradeName(0)).empty());
}

#include "services/survey/survey_answer.h"

#include <catch2/catch.hpp>

using namespace hotline::survey;

TEST_CASE("answers: resolved, the five grades, a bounded comment") {
  CHECK(*ParseResolved("yes") == Resolved::kYes);
  CHECK(*ParseResolved("部分解决") == Resolved::kPartly);
  CHECK(*ParseResolved("no") == Resolved::kNo);
  auto bad = ParseResolved("maybe");
  CHECK(absl::IsInvalidArgument(bad.status()));
  CHECK_THAT(std::string(bad.status().message()), Catch::StartsWith("resolved: "));

  auto a = MakeAnswer(Resolved::kYes, 5, "谢谢，路灯已经修好了");
  REQUIRE(a.ok());
  CHECK(a->comment == "谢谢，路灯已经修好了");

  auto low = MakeAnswer(Resolved::kYes, 0, "");
  CHECK_THAT(std::string(low.status().message()), Catch::StartsWith("satisfaction: "));
  CHECK(absl::IsInvalidArgument(MakeAnswer(Resolved::kYes, 6, "").status()));

  // The limit is in characters: 500 Chinese characters (1,500 bytes) pass, 501 do not.
  std::string comment;
  for (size_t i = 0; i < kMaxCommentChars; ++i) comment += "好";
  CHECK(MakeAnswer(Resolved::kYes, 4, comment).ok());
  auto longer = MakeAnswer(Resolved::kYes, 4, comment + "好");
  CHECK(absl::IsInvalidArgument(longer.status()));
  CHECK_THAT(std::string(longer.status().message()), Catch::StartsWith("comment: "));
  CHECK_THAT(std::string(MakeAnswer(Resolved::kYes, 4, "\xff").status().message()),
             Catch::StartsWith("comment: "));
}

TEST_CASE("negative answers reopen once, then go to the supervisors") {
  const int kAtOrBelow = 2;  // 不满意, the shipped policy
  const SurveyAnswer happy{Resolved::kYes, 5, ""};
  const SurveyAnswer partly_ok{Resolved::kPartly, 3, ""};
  const SurveyAnswer unresolved_but_polite{Resolved::kNo, 4, ""};
  const SurveyAnswer unhappy{Resolved::kYes, 2, ""};
  const SurveyAnswer angry{Resolved::kPartly, 1, ""};

  CHECK_FALSE(IsNegative(happy, kAtOrBelow));
  CHECK_FALSE(IsNegative(partly_ok, kAtOrBelow));
  CHECK(IsNegative(unresolved_but_polite, kAtOrBelow));
  CHECK(IsNegative(unhappy, kAtOrBelow));
  CHECK(IsNegative(angry, kAtOrBelow));
  // A stricter city counts 一般 (3) as negative too.
  CHECK(IsNegative(partly_ok, 3));

  CHECK(ConsequenceOf(happy, kAtOrBelow, 0) == Consequence::kCloseLoop);
  CHECK(ConsequenceOf(happy, kAtOrBelow, 1) == Consequence::kCloseLoop);  // fixed after 重办
  CHECK(ConsequenceOf(unhappy, kAtOrBelow, 0) == Consequence::kReopen);
  CHECK(ConsequenceOf(unresolved_but_polite, kAtOrBelow, 1) == Consequence::kEscalate);
  CHECK(ConsequenceOf(angry, kAtOrBelow, 2) == Consequence::kEscalate);
}

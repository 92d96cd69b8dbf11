// The reply-quality check (services/dispatch/reply_quality.h) on hand-written replies of every
// verdict, and a sanity check on the real Teddy Cup replies when ../shared/data is present.
#include "services/dispatch/reply_quality.h"

#include <catch2/catch.hpp>
#include <map>

#include "absl/strings/str_join.h"

using namespace hotline::dispatch;

namespace {

const ReplyTemplates& Lexicon() {
  static const ReplyTemplates* t = [] {
    auto loaded = ReplyTemplates::LoadFile(HOTLINE_REPO_DIR "/deploy/dispatch/reply_templates.txt");
    REQUIRE(loaded.ok());
    return new ReplyTemplates(std::move(*loaded));
  }();
  return *t;
}

constexpr char kRequest[] =
    "天河区五山街道华南路38号小区门口的路灯坏了两个多月，晚上一片漆黑，老人小孩出行很不安全，"
    "请尽快维修。";
constexpr char kPlace[] = "天河区 五山街道 华南路";

std::string Reasons(const ReplyAssessment& a) { return absl::StrJoin(a.reasons, "; "); }

}  // namespace

TEST_CASE("a good, specific reply is OK, with no finding") {
  auto a = AssessReply(kRequest, kPlace,
                       "市民您好！接到您的反映后，区城管局路灯所于5月8日到华南路38号小区门口"
                       "现场查看，两盏路灯因电缆老化短路不亮，已更换电缆和灯具，当晚恢复照明。"
                       "今后我们将加强五山街道辖区路灯的日常巡查。感谢您的监督！",
                       Lexicon());
  INFO(Reasons(a));
  CHECK(a.verdict == ReplyVerdict::kOk);
  CHECK(a.reasons.empty());
  CHECK(a.score > 0.9);
  CHECK(a.shared_bigrams >= 5);
  // One of the ticket's places is enough; the district it does not repeat is listed, not held
  // against it.
  CHECK(absl::StrJoin(a.missing_places, " ") == "天河区");
}

TEST_CASE("a bare acknowledgement or forwarding is a template non-answer, named in the reason") {
  for (const char* reply :
       {"已收悉", "网友：您好！留言已收悉", "您好，您反映的问题已转相关部门处理，谢谢！",
        "您好，请咨询相关部门。"}) {
    auto a = AssessReply(kRequest, kPlace, reply, Lexicon());
    INFO(reply << " → " << Reasons(a));
    CHECK(a.verdict == ReplyVerdict::kTemplateNonAnswer);
    REQUIRE_FALSE(a.matched_phrases.empty());
    CHECK(a.reasons[0].find("template phrases") != std::string::npos);
    CHECK(a.score < 0.7);
  }
  // Forwarding with a little text besides is still not an answer.
  auto a = AssessReply(kRequest, kPlace,
                       "网友您好：您反映的华南路路灯问题已收悉，已转交区城管局路灯所调查处理，"
                       "如有情况将及时回复。",
                       Lexicon());
  INFO(Reasons(a));
  CHECK(a.verdict == ReplyVerdict::kTemplateNonAnswer);
  CHECK(a.reasons[0].find("passes the matter on") != std::string::npos);
}

TEST_CASE("full-width and Traditional text is normalised before the lexicon is applied") {
  auto a = AssessReply(kRequest, kPlace, "網友：您好！留言已收悉。", Lexicon());
  CHECK(a.verdict == ReplyVerdict::kTemplateNonAnswer);
}

TEST_CASE("a reply with no template but almost nothing in it is too short") {
  for (const char* reply : {"2019年5月8日", "“UU0081182”", "已修好。"}) {
    auto a = AssessReply(kRequest, kPlace, reply, Lexicon());
    INFO(reply << " → " << Reasons(a));
    CHECK(a.verdict == ReplyVerdict::kTooShort);
    CHECK(a.explanation_chars < 20);
    CHECK(a.reasons[0].find("explanatory characters (minimum 20)") != std::string::npos);
  }
}

TEST_CASE("a long reply about another matter is off topic") {
  auto a = AssessReply(kRequest, kPlace,
                       "您好！根据《义务教育法》规定，年满六周岁的儿童应当入学接受义务教育，"
                       "招生工作按照学区划分、免试就近入学的原则进行，具体招生方案请关注教育局"
                       "官网发布的通知，报名时需携带户口簿和房产证明材料。",
                       Lexicon());
  INFO(Reasons(a));
  CHECK(a.verdict == ReplyVerdict::kOffTopic);
  CHECK(a.shared_bigrams == 0);
  CHECK(Reasons(a).find("shares 0 of the request's words") != std::string::npos);
}

TEST_CASE("a reply on the matter that ignores the place the citizen named misses the place") {
  const std::string reply =
      "您好！路灯所接报后已安排人员现场检修，损坏的两盏路灯已更换灯具并恢复照明，"
      "夜间出行安全隐患已消除，今后将加强巡查维护。";
  auto a = AssessReply(kRequest, "五山街道 华南路", reply, Lexicon());
  INFO(Reasons(a));
  CHECK(a.verdict == ReplyVerdict::kMissingPlace);
  CHECK(a.missing_places.size() == 2);
  CHECK(Reasons(a).find("华南路") != std::string::npos);
  // The same reply is fine when the ticket names no place, and when it names one the reply has.
  CHECK(AssessReply(kRequest, "", reply, Lexicon()).verdict == ReplyVerdict::kOk);
  CHECK(AssessReply(kRequest, "华南路", reply + "（华南路38号）", Lexicon()).verdict ==
        ReplyVerdict::kOk);
}

TEST_CASE("quoting the request back does not make a reply on topic") {
  // The title in quotes is an echo: without it nothing of the matter is left.
  auto a = AssessReply(kRequest, kPlace,
                       "您好！关于您反映的“华南路38号小区门口的路灯坏了两个多月”的问题，"
                       "我单位正在研究，后续会根据实际情况统筹安排，请耐心等待。",
                       Lexicon());
  INFO(Reasons(a));
  CHECK(a.verdict != ReplyVerdict::kOk);
  CHECK(a.shared_bigrams == 0);
}

TEST_CASE("thresholds come from the options") {
  ReplyQualityOptions strict;
  strict.min_explanation_chars = 200;
  auto a = AssessReply(kRequest, kPlace,
                       "区城管局路灯所已到华南路38号小区门口检修，两盏路灯已恢复照明，五山街道"
                       "将加强巡查。",
                       Lexicon(), strict);
  CHECK(a.verdict == ReplyVerdict::kTooShort);
  CHECK(a.reasons[0].find("minimum 200") != std::string::npos);
}

TEST_CASE("places are found in short texts such as a title") {
  auto p = ExtractPlaces("A2区桂花坪街道景蓉华苑小区物业管理有问题，请求在金洲大道与雷高路交会处");
  CHECK(absl::StrJoin(p, " ") == "桂花坪街道 景蓉华苑小区 金洲大道 雷高路");
  CHECK(ExtractPlaces("咨询A市医保报销比例").empty());
}

TEST_CASE("a bad lexicon is refused naming the line and the reason") {
  auto unknown = ReplyTemplates::Parse("[non-answer]\n已收悉\n[nonsense]\n", "t.txt");
  REQUIRE_FALSE(unknown.ok());
  CHECK(std::string(unknown.status().message()).find("t.txt:3: section: unknown") == 0);
  auto orphan = ReplyTemplates::Parse("# c\n已收悉\n", "t.txt");
  REQUIRE_FALSE(orphan.ok());
  CHECK(std::string(orphan.status().message()).find("t.txt:2: phrase:") == 0);
  auto punct = ReplyTemplates::Parse("[courtesy]\n！！\n", "t.txt");
  REQUIRE_FALSE(punct.ok());
  CHECK(std::string(punct.status().message()).find("only punctuation") != std::string::npos);
  auto none = ReplyTemplates::Parse("[courtesy]\n您好\n", "t.txt");
  REQUIRE_FALSE(none.ok());
  CHECK(std::string(none.status().message()).find("non-answer: no phrases") != std::string::npos);
  CHECK(ReplyTemplates::LoadFile("/nonexistent/reply_templates.txt").status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("on the real Teddy Cup replies the verdicts are plausible") {
  const std::string path =
      HOTLINE_REPO_DIR "/../shared/data/teddycup2020_c/replies_attachment4.csv";
  auto rows = ReadRepliesCsv(path);
  if (!rows.ok() && rows.status().code() == absl::StatusCode::kNotFound) {
    WARN("SKIP: " << path << " is absent (../shared/data is not part of the repository)");
    return;
  }
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2816);
  std::map<ReplyVerdict, size_t> counts;
  for (const auto& r : *rows) {
    auto a = AssessReply(r.title + "\n" + r.detail, absl::StrJoin(ExtractPlaces(r.title), " "),
                         r.reply, Lexicon());
    counts[a.verdict]++;
    CHECK(a.score >= 0);
    CHECK(a.score <= 1);
    if (a.verdict != ReplyVerdict::kOk) CHECK_FALSE(a.reasons.empty());
  }
  const double ok = static_cast<double>(counts[ReplyVerdict::kOk]) / rows->size();
  WARN("OK " << counts[ReplyVerdict::kOk] << ", TEMPLATE_NON_ANSWER "
             << counts[ReplyVerdict::kTemplateNonAnswer] << ", TOO_SHORT "
             << counts[ReplyVerdict::kTooShort] << ", OFF_TOPIC " << counts[ReplyVerdict::kOffTopic]
             << ", MISSING_PLACE " << counts[ReplyVerdict::kMissingPlace]);
  CHECK(ok > 0.40);
  CHECK(ok < 0.98);
  // The data has replies of every kind ("网友：您好！留言已收悉" alone is common): each verdict
  // must be found at least once, and template non-answers are the largest group of flags.
  for (auto v : {ReplyVerdict::kTemplateNonAnswer, ReplyVerdict::kTooShort, ReplyVerdict::kOffTopic,
                 ReplyVerdict::kMissingPlace}) {
    INFO(ReplyVerdictName(v));
    CHECK(counts[v] > 0);
  }
  CHECK(counts[ReplyVerdict::kTemplateNonAnswer] > counts[ReplyVerdict::kOffTopic]);
}

#include <catch2/catch.hpp>

#include "services/common/text.h"
#include "services/intake/identity.h"
#include "services/intake/knowledge_base.h"
#include "services/intake/request_kind.h"

using namespace hotline;
using namespace hotline::intake;

namespace {

std::unique_ptr<KnowledgeBase> SmallKb() {
  std::vector<v1::KnowledgeEntry> e(4);
  e[0].set_code("SB-001");
  e[0].set_question("社保卡丢失了怎么补办");
  e[0].set_answer("携带身份证到社保网点补办。");
  e[0].add_tags("社保卡");
  e[1].set_code("HJ-001");
  e[1].set_question("居住证怎么办理");
  e[1].set_answer("到派出所申领。");
  e[2].set_code("GJJ-001");
  e[2].set_question("公积金提取需要什么材料");
  e[2].set_answer("身份证和购房合同。");
  e[3].set_code("EN-002");
  e[3].set_question("Where can I pay my water bill");
  e[3].set_answer("WeChat or Alipay.");
  return *KnowledgeBase::Build(std::move(e));
}

}  // namespace

TEST_CASE("ticket type comes from the hint, else from the words") {
  auto t = [](const char* s) { return DetectType(NormalizeText(s), v1::TICKET_TYPE_UNSPECIFIED); };
  CHECK(t("请问社保卡怎么补办") == v1::TICKET_TYPE_CONSULTATION);
  CHECK(t("投诉楼下烧烤店油烟扰民") == v1::TICKET_TYPE_COMPLAINT);
  CHECK(t("举报有人偷排污水") == v1::TICKET_TYPE_REPORT);
  CHECK(t("老人走失了，求助") == v1::TICKET_TYPE_HELP);
  CHECK(t("建议增设候车亭") == v1::TICKET_TYPE_SUGGESTION);
  CHECK(t("表扬环卫工人") == v1::TICKET_TYPE_PRAISE);
  CHECK(t("How do I renew my residence permit?") == v1::TICKET_TYPE_CONSULTATION);
  CHECK(t("路灯坏了") == v1::TICKET_TYPE_COMPLAINT);
  CHECK(DetectType(NormalizeText("请问社保卡怎么补办"), v1::TICKET_TYPE_PRAISE) ==
        v1::TICKET_TYPE_PRAISE);
}

TEST_CASE("urgent requests are recognised, ordinary ones are not") {
  CHECK(UrgentCue(NormalizeText("楼道里闻到煤气味，怀疑燃气泄漏")) == "燃气泄漏");
  CHECK(UrgentCue(NormalizeText("有人被困电梯半小时了")) == "被困电梯");
  CHECK(UrgentCue(NormalizeText("水管爆裂，路都淹了")) == "水管爆裂");
  CHECK(UrgentCue(NormalizeText("I smell gas in the stairwell")) == "smell gas");
  CHECK(UrgentCue(NormalizeText("路灯坏了一个星期")).empty());
  CHECK(UrgentCue(NormalizeText("the firework show was great")).empty());
}

TEST_CASE("knowledge base ranks the entry a citizen's question is about") {
  auto kb = SmallKb();
  auto hits = kb->Search("你好，我的社保卡丢了，请问怎么补办？", 3);
  REQUIRE_FALSE(hits.empty());
  CHECK(hits[0].entry->code() == "SB-001");
  CHECK(hits[0].coverage > 0.6);
  // Traditional input finds the same entry.
  auto trad = kb->Search("請問社保卡丟失了怎麼補辦", 1);
  REQUIRE_FALSE(trad.empty());
  CHECK(trad[0].entry->code() == "SB-001");
  CHECK(kb->Search("where do I pay the water bill", 1)[0].entry->code() == "EN-002");
}

TEST_CASE("knowledge base answers only when confident") {
  auto kb = SmallKb();
  auto a = kb->Answer("请问办理居住证怎么办理", 0.6);
  REQUIRE(a.has_value());
  CHECK(a->entry->code() == "HJ-001");
  // Shares a word ("办理") but asks something else: no direct answer.
  CHECK_FALSE(kb->Answer("请问营业执照怎么办理", 0.6).has_value());
  CHECK_FALSE(kb->Answer("楼下烧烤店太吵了", 0.6).has_value());
}

TEST_CASE("knowledge base file errors name the line") {
  auto r = KnowledgeBase::LoadFile("/nonexistent/kb.jsonl");
  CHECK(absl::IsNotFound(r.status()));
}

TEST_CASE("ticket numbers and citizen ids") {
  absl::Time t =
      absl::FromCivil(absl::CivilSecond(2026, 11, 24, 23, 30, 0), absl::FixedTimeZone(8 * 3600));
  CHECK(FormatTicketNumber("GZ", t, absl::FixedTimeZone(8 * 3600), 123) == "GZ-20261124-000123");
  // The local date, not UTC: 23:30 in UTC+8 is still the 24th there, the 24th in UTC too;
  // 07:30 on the 25th in UTC+8 is the 24th in UTC.
  absl::Time morning =
      absl::FromCivil(absl::CivilSecond(2026, 11, 25, 7, 30, 0), absl::FixedTimeZone(8 * 3600));
  CHECK(LocalDate(morning, absl::FixedTimeZone(8 * 3600)) == "20261125");
  CHECK(LocalDate(morning, absl::UTCTimeZone()) == "20261124");
  CHECK(CitizenId("k1", "+8613812345678") == CitizenId("k1", "+8613812345678"));
  CHECK(CitizenId("k1", "+8613812345678") != CitizenId("k2", "+8613812345678"));
  CHECK(CitizenId("k1", "+8613812345678").find("13812345678") == std::string::npos);
  CHECK(NewVerificationCode().size() == 6);
  CHECK(PlaceKey("东湖区", "東湖路5號") == PlaceKey("东湖区", "东湖路5号"));
  CHECK(PlaceKey("东湖区", "").empty());
}

#include "services/common/text.h"

#include <catch2/catch.hpp>

using namespace hotline;

TEST_CASE("UTF-8 validation rejects malformed sequences") {
  CHECK(IsValidUtf8("路灯坏了 street light"));
  CHECK_FALSE(IsValidUtf8("\xff\xfe"));
  CHECK_FALSE(IsValidUtf8("\xe8\xb7"));      // truncated 3-byte sequence
  CHECK_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xed\xa0\x80"));  // UTF-16 surrogate
  CHECK(Utf8Length("路灯ab") == 4);
}

TEST_CASE("NormalizeText folds Traditional, full-width and case") {
  CHECK(NormalizeText("請問社保卡丟失了怎麼補辦？") == NormalizeText("请问社保卡丢失了怎么补办?"));
  CHECK(NormalizeText("ＡＢＣ１２３") == "abc123");
  CHECK(NormalizeText("Hello,  World!!") == "hello world");
}

TEST_CASE("CharNgrams yields CJK unigrams, bigrams and ASCII words") {
  auto g = CharNgrams(NormalizeText("路灯坏 led"));
  std::vector<std::string> want = {"路", "路灯", "灯", "灯坏", "坏", "led"};
  CHECK(g == want);
  CHECK(CharNgrams("路灯坏", false) == std::vector<std::string>{"路灯", "灯坏"});
}

TEST_CASE("BigramJaccard separates the same problem from a different one") {
  auto a = NormalizeText("东湖路5号的路灯坏了一个多星期，晚上一片漆黑");
  auto b = NormalizeText("东湖路5号的路灯坏了一个多星期，晚上一片漆黑，还是没人处理");
  auto c = NormalizeText("东湖路5号垃圾桶满了好几天没人清运");
  CHECK(BigramJaccard(a, a) == Approx(1.0));
  CHECK(BigramJaccard(a, b) > 0.6);
  CHECK(BigramJaccard(a, c) < 0.3);
}

TEST_CASE("RedactPersonalData masks e-mail addresses written in a citizen's text") {
  CHECK(RedactPersonalData("我的邮箱是 zhang.san@example.com，请回复") ==
        "我的邮箱是 z***@example.com，请回复");
  CHECK(RedactPersonalData("邮箱:li_si+hotline@mail.gz.gov.cn.") == "邮箱:l***@mail.gz.gov.cn.");
  CHECK(RedactPersonalData("13812345678@qq.com") == "1***@qq.com");
  // An '@' that is not an address stays.
  CHECK(RedactPersonalData("@市容局 请处理") == "@市容局 请处理");
  CHECK(RedactPersonalData("a@b 和 x@localhost") == "a@b 和 x@localhost");
}

TEST_CASE("RedactPersonalData masks mainland ID-card numbers, 18-digit and old 15-digit") {
  CHECK(RedactPersonalData("身份证号 110105199003071234") == "身份证号 110***********1234");
  CHECK(RedactPersonalData("ID 11010519900307123X ok") == "ID 110***********123X ok");
  CHECK(RedactPersonalData("身份证11010519900307123x。") == "身份证110***********123X。");
  CHECK(RedactPersonalData("老身份证 440106850612123") == "老身份证 440********2123");
  std::string masked =
      RedactPersonalData("我叫张三，身份证号是440106198506121235，电话13812345678");
  CHECK(masked.find("440106198506121235") == std::string::npos);
  CHECK(masked.find("19850612") == std::string::npos);  // the date of birth is gone
  CHECK(masked.find("13812345678") == std::string::npos);
}

TEST_CASE("RedactPersonalData still masks phone numbers however they are written") {
  CHECK(RedactPersonalData("请回电13812341234谢谢") == "请回电138****1234谢谢");
  CHECK(RedactPersonalData("手机 138 1234 5678") == "手机 138****5678");
  CHECK(RedactPersonalData("call 020-8765 4321 after 5") == "call 020****4321 after 5");
  CHECK(RedactPersonalData("座机 83838383") == "座机 838****8383");
  CHECK(RedactPersonalData("+86 138-1234-5678") == "138****5678");
  CHECK(RedactPersonalData("from +44 20 7946 0958") == "from 442****0958");
  // Two numbers side by side: the phone is masked, the year kept.
  CHECK(RedactPersonalData("13812345678 2024") == "138****5678 2024");
}

TEST_CASE("RedactPersonalData leaves ordinary numbers alone") {
  for (const char* s : {
           "订单号 202403151234567890 一直没发货",  // 18 digits, but no date of birth at 6..13
           "快递单号 SF1234567890123",              // 13 digits not starting 86
           "金额1280.50元，退款 35.5 元", "2024-03-15 下午3点", "20240315那天", "2024年3月15日",
           "罚款 ¥12,800，押金 3000 元", "3号楼502室", "G4 高速 1234 公里处",
           "order 987654321 was lost",  // 9 digits, not a phone's first digit
       }) {
    INFO(s);
    CHECK(RedactPersonalData(s) == s);
  }
}

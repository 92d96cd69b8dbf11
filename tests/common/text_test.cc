#include <catch2/catch.hpp>

#include "services/common/text.h"

using namespace hotline;

TEST_CASE("UTF-8 validation rejects malformed sequences") {
  CHECK(IsValidUtf8("路灯坏了 street light"));
  CHECK_FALSE(IsValidUtf8("\xff\xfe"));
  CHECK_FALSE(IsValidUtf8("\xe8\xb7"));          // truncated 3-byte sequence
  CHECK_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xed\xa0\x80"));      // UTF-16 surrogate
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

#include "services/common/text.h"

#include <opencc.h>

#include <algorithm>
#include <mutex>
#include <unordered_set>

#include "services/common/log.h"

namespace hotline {
namespace {

bool IsCjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0xF900 && c <= 0xFAFF);
}

bool IsAsciiWordChar(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n;
    char32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (int k = 1; k <= n; ++k) {
      if (i + k >= s.size() || (p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

std::vector<char32_t> DecodeUtf8(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = p[i];
    int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
    char32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k <= n && i + k < s.size(); ++k) cp = (cp << 6) | (p[i + k] & 0x3F);
    out.push_back(cp);
    i += n + 1;
  }
  return out;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string ToSimplified(std::string_view s) {
  static std::once_flag once;
  static opencc_t converter = reinterpret_cast<opencc_t>(-1);
  static std::mutex mu;  // OpenCC's converter is not documented as thread-safe
  std::call_once(once, [] {
    converter = opencc_open("t2s.json");
    if (converter == reinterpret_cast<opencc_t>(-1)) {
      LogWarn("OpenCC t2s unavailable; Traditional text is not normalised",
              {{"error", opencc_error()}});
    }
  });
  if (converter == reinterpret_cast<opencc_t>(-1) || s.empty()) return std::string(s);
  std::lock_guard<std::mutex> lock(mu);
  char* out = opencc_convert_utf8(converter, s.data(), s.size());
  if (out == nullptr) return std::string(s);
  std::string result(out);
  opencc_convert_utf8_free(out);
  return result;
}

std::string NormalizeText(std::string_view s) {
  std::string simplified = ToSimplified(s);
  std::string out;
  out.reserve(simplified.size());
  bool space = false;
  for (char32_t c : DecodeUtf8(simplified)) {
    if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;  // full-width ASCII
    if (c == 0x3000) c = ' ';
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    bool punctuation = (c >= 0x2000 && c <= 0x206F) || (c >= 0x3000 && c <= 0x303F) ||
                       (c >= 0xFF00 && c <= 0xFFEF);
    if (IsCjk(c) || IsAsciiWordChar(c) || (c >= 0x80 && !punctuation)) {
      if (space && !out.empty()) out.push_back(' ');
      space = false;
      AppendUtf8(c, &out);
    } else {
      space = true;  // punctuation, whitespace, symbols: a boundary
    }
  }
  return out;
}

std::vector<std::string> CharNgrams(std::string_view normalized, bool with_unigrams) {
  std::vector<std::string> grams;
  auto cps = DecodeUtf8(normalized);
  std::string word;
  auto flush_word = [&] {
    if (!word.empty()) grams.push_back(word);
    word.clear();
  };
  for (size_t i = 0; i < cps.size(); ++i) {
    char32_t c = cps[i];
    if (IsAsciiWordChar(c)) {
      word.push_back(static_cast<char>(c));
      continue;
    }
    flush_word();
    if (!IsCjk(c)) continue;
    std::string g;
    AppendUtf8(c, &g);
    if (with_unigrams) grams.push_back(g);
    if (i + 1 < cps.size() && IsCjk(cps[i + 1])) {
      AppendUtf8(cps[i + 1], &g);
      grams.push_back(std::move(g));
    }
  }
  flush_word();
  return grams;
}

double BigramJaccard(std::string_view a, std::string_view b) {
  auto ga = CharNgrams(a, false), gb = CharNgrams(b, false);
  std::unordered_set<std::string> sa(ga.begin(), ga.end()), sb(gb.begin(), gb.end());
  if (sa.empty() && sb.empty()) return a == b ? 1.0 : 0.0;
  size_t inter = 0;
  for (const auto& g : sa) inter += sb.count(g);
  return static_cast<double>(inter) / static_cast<double>(sa.size() + sb.size() - inter);
}

}  // namespace hotline

#include "services/common/text.h"

#include <opencc.h>

#include <algorithm>
#include <mutex>
#include <optional>
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

namespace {

bool IsDigitChar(char c) { return c >= '0' && c <= '9'; }
bool IsEmailLocalChar(char c) {
  return IsAsciiWordChar(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '%' ||
         c == '+' || c == '-';
}
bool IsDomainChar(char c) {
  return IsAsciiWordChar(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}

// Two digits at `p` as a number.
int Two(std::string_view d, size_t p) { return (d[p] - '0') * 10 + (d[p + 1] - '0'); }

bool PlausibleDate(int year, int month, int day) {
  return year >= 1900 && year <= 2099 && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// A region code never starts with 0 or 9; then a real date of birth.
bool LooksLikeIdCard(std::string_view digits, bool x_check_digit) {
  if (digits.empty() || digits[0] < '1' || digits[0] > '8') return false;
  if (digits.size() == 17 && x_check_digit) {
    return PlausibleDate(Two(digits, 6) * 100 + Two(digits, 8), Two(digits, 10), Two(digits, 12));
  }
  if (digits.size() == 18 && !x_check_digit) {
    return PlausibleDate(Two(digits, 6) * 100 + Two(digits, 8), Two(digits, 10), Two(digits, 12));
  }
  if (digits.size() == 15 && !x_check_digit) {  // 1985–1999 form: YYMMDD
    return PlausibleDate(1900 + Two(digits, 6), Two(digits, 8), Two(digits, 10));
  }
  return false;
}

bool LooksLikeDate(std::string_view digits) {
  return digits.size() == 8 &&
         PlausibleDate(Two(digits, 0) * 100 + Two(digits, 2), Two(digits, 4), Two(digits, 6));
}

// Whether a run of digits (as written: `plus` when a '+' led it) is a phone number.
bool LooksLikePhone(std::string_view d, bool plus) {
  size_t n = d.size();
  if (plus) return n >= 8 && n <= 15;
  if (n >= 13 && n <= 15 && d.substr(0, 2) == "86") return true;  // 86 138..., 86 20 ...
  if (n >= 13 && n <= 17 && d.substr(0, 4) == "0086") return true;
  if (n == 7 || n == 8) return !LooksLikeDate(d);            // a local landline
  if (n >= 9 && n <= 12) return d[0] == '0' || d[0] == '1';  // area code + local, mobile
  return false;
}

std::string MaskIdCard(std::string_view digits, bool x) {
  std::string out(digits.substr(0, 3));
  size_t total = digits.size() + (x ? 1 : 0);
  out.append(total - 7, '*');
  std::string tail = std::string(digits.substr(digits.size() - (x ? 3 : 4))) + (x ? "X" : "");
  return out + tail;
}

// The masked form of a number as written (digits in `digits`, groups as written), or nullopt
// when it is an ordinary number.
std::optional<std::string> MaskNumber(std::string_view digits, bool plus, bool x) {
  if (LooksLikeIdCard(digits, x)) return MaskIdCard(digits, x);
  if (!x && LooksLikePhone(digits, plus))
    return MaskPhone(absl::string_view(digits.data(), digits.size()));
  return std::nullopt;
}

}  // namespace

std::string RedactPersonalData(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    // An e-mail address, tried where a word starts: local part, '@', a domain with a dot.
    if (IsEmailLocalChar(c) && c != '.' && (i == 0 || !IsEmailLocalChar(text[i - 1]))) {
      size_t at = i;
      while (at < text.size() && IsEmailLocalChar(text[at])) ++at;
      if (at < text.size() && text[at] == '@') {
        size_t end = at + 1;
        while (end < text.size() && IsDomainChar(text[end])) ++end;
        std::string_view domain = text.substr(at + 1, end - at - 1);
        while (!domain.empty() && (domain.back() == '.' || domain.back() == '-')) {
          domain.remove_suffix(1);
        }
        size_t dot = domain.rfind('.');
        if (dot != std::string_view::npos && dot > 0 && domain.size() - dot - 1 >= 2) {
          out += c;
          out += "***@";
          out.append(domain.data(), domain.size());
          i = at + 1 + domain.size();
          continue;
        }
      }
    }
    bool plus = c == '+' && i + 1 < text.size() && IsDigitChar(text[i + 1]);
    if (!IsDigitChar(c) && !plus) {
      out += c;
      ++i;
      continue;
    }
    // A number glued to letters or other digits' words (an order code like "A1234567") is
    // still scanned: a phone inside it is a phone.
    size_t j = plus ? i + 1 : i;
    std::string digits;
    std::vector<std::pair<size_t, size_t>> groups;  // [start, end) of each digit group
    size_t group_start = j;
    while (j < text.size()) {
      if (IsDigitChar(text[j])) {
        digits += text[j++];
      } else if ((text[j] == ' ' || text[j] == '-') && j + 1 < text.size() &&
                 IsDigitChar(text[j + 1])) {
        groups.emplace_back(group_start, j);
        group_start = ++j;
      } else {
        break;
      }
    }
    groups.emplace_back(group_start, j);
    bool x = j < text.size() && (text[j] == 'X' || text[j] == 'x') &&
             (j + 1 >= text.size() || !IsAsciiWordChar(static_cast<unsigned char>(text[j + 1])));
    if (auto masked = MaskNumber(digits, plus, x)) {
      out += *masked;
      i = x ? j + 1 : j;
      continue;
    }
    // Not one number: perhaps several written side by side ("13812345678 2024").
    out.append(text.substr(i, groups.front().first - i));  // the '+'
    for (size_t g = 0; g < groups.size(); ++g) {
      auto [s, e] = groups[g];
      std::string_view run = text.substr(s, e - s);
      bool last = g + 1 == groups.size();
      auto m = MaskNumber(run, plus && g == 0, last && x);
      if (m) {
        out += *m;
        if (last && x) ++j;
      } else {
        out.append(run);
      }
      if (!last) out += text[e];  // the separator
    }
    i = j;
  }
  return out;
}

}  // namespace hotline

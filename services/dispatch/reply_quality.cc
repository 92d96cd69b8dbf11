#include "services/dispatch/reply_quality.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/csv.h"
#include "services/common/text.h"

namespace hotline::dispatch {
namespace {

bool IsCjk(char32_t c) { return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF); }
bool IsAsciiAlnum(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsDigit(char32_t c) { return c >= '0' && c <= '9'; }

std::string Encode(const std::vector<char32_t>& cps, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) AppendUtf8(cps[i], &out);
  return out;
}

// Content bigrams (and ASCII words) of normalised text, without the generic ones.
std::unordered_set<std::string> ContentBigrams(std::string_view normalized,
                                               const std::unordered_set<std::string>& generic) {
  std::unordered_set<std::string> out;
  for (auto& g : CharNgrams(normalized, /*with_unigrams=*/false)) {
    if (!generic.count(g)) out.insert(std::move(g));
  }
  return out;
}

// Quoted spans of the reply that repeat the request ("关于您反映的“A2区景蓉华苑物业管理有问题”")
// are taken out: echoing the citizen's title is not an answer and would make any reply look on
// topic. A span counts as an echo when most of its bigrams are the request's.
std::string DropQuotedEchoes(std::string_view reply,
                             const std::unordered_set<std::string>& request_bigrams,
                             const std::unordered_set<std::string>& generic) {
  auto cps = DecodeUtf8(reply);
  auto closing = [](char32_t c) -> char32_t {
    switch (c) {
      case U'\u201C':
        return U'\u201D';  // “ ”
      case U'\u300C':
        return U'\u300D';  // 「 」
      case U'"':
        return U'"';
      case U'\uFF02':
        return U'\uFF02';  // ＂
      default:
        return 0;
    }
  };
  constexpr size_t kMaxQuote = 200;
  std::string out;
  for (size_t i = 0; i < cps.size(); ++i) {
    char32_t close = closing(cps[i]);
    if (close != 0) {
      size_t end = i + 1;
      while (end < cps.size() && end - i <= kMaxQuote && cps[end] != close) ++end;
      if (end < cps.size() && cps[end] == close) {
        auto grams = ContentBigrams(NormalizeText(Encode(cps, i + 1, end)), generic);
        size_t in_request = 0;
        for (const auto& g : grams) in_request += request_bigrams.count(g);
        if (!grams.empty() && in_request * 10 >= grams.size() * 6) {
          out += ' ';
          i = end;
          continue;
        }
      }
    }
    AppendUtf8(cps[i], &out);
  }
  return out;
}

// Replaces every occurrence of `phrase` with a space (so no bigram spans the gap); true if any.
bool TakeOut(std::string* text, const std::string& phrase) {
  bool any = false;
  for (size_t pos = text->find(phrase); pos != std::string::npos;
       pos = text->find(phrase, pos + 1)) {
    text->replace(pos, phrase.size(), " ");
    any = true;
  }
  return any;
}

// CJK characters, plus ASCII words that are neither numbers nor ids: dates, phone numbers,
// reference numbers ("UU0081182") and links explain nothing. Short codes ("a2", "k10": the
// anonymised districts) and words count one each.
size_t ExplanationChars(std::string_view normalized) {
  auto cps = DecodeUtf8(normalized);
  size_t n = 0;
  for (size_t i = 0; i < cps.size();) {
    if (IsCjk(cps[i])) {
      ++n;
      ++i;
    } else if (IsAsciiAlnum(cps[i])) {
      size_t j = i, digits = 0;
      for (; j < cps.size() && IsAsciiAlnum(cps[j]); ++j) digits += IsDigit(cps[j]);
      if (digits == 0 || j - i <= 3) ++n;
      i = j;
    } else {
      ++i;
    }
  }
  return n;
}

const std::vector<std::u32string>& PlaceSuffixes() {
  // Longest first, so 街道 wins over 街 and 小区 over 区.
  static const auto* s = new std::vector<std::u32string>{
      U"街道", U"社区", U"小区", U"大道", U"区", U"县", U"镇", U"乡", U"村", U"路", U"街", U"市"};
  return *s;
}

bool IsPlaceStop(char32_t c) {
  static const std::u32string kStops =
      U"的在于是和与及到从住我你您他该本这那个各此有为对向把被将了也都就至往近旁附请求望关";
  return kStops.find(c) != std::u32string::npos;
}

// Suffix of `cps` starting at `i`, or empty.
std::u32string SuffixAt(const std::vector<char32_t>& cps, size_t i) {
  for (const auto& s : PlaceSuffixes()) {
    if (i + s.size() <= cps.size() && std::equal(s.begin(), s.end(), cps.begin() + i)) return s;
  }
  return {};
}

// The name without its administrative suffix ("桂花坪街道" → "桂花坪").
std::u32string PlaceCore(const std::u32string& place) {
  for (const auto& s : PlaceSuffixes()) {
    if (place.size() > s.size() && place.compare(place.size() - s.size(), s.size(), s) == 0) {
      return place.substr(0, place.size() - s.size());
    }
  }
  return place;
}

// A place is named when the reply has it whole, or — for Chinese names — any two characters of
// its name in a row ("景蓉华苑小区" is named by "景蓉花苑"; replies abbreviate and mistype).
// Codes such as "a2区" must appear whole: "a2" alone matches too much.
bool PlaceNamed(const std::string& place, const std::string& reply_compact) {
  if (reply_compact.find(place) != std::string::npos) return true;
  auto cps = DecodeUtf8(place);
  std::u32string core = PlaceCore(std::u32string(cps.begin(), cps.end()));
  if (core.size() < 2 || !std::all_of(core.begin(), core.end(), IsCjk)) return false;
  for (size_t i = 0; i + 1 < core.size(); ++i) {
    std::string bigram;
    AppendUtf8(core[i], &bigram);
    AppendUtf8(core[i + 1], &bigram);
    if (reply_compact.find(bigram) != std::string::npos) return true;
  }
  return false;
}

std::string RemoveSpaces(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  return s;
}

}  // namespace

std::string_view ReplyVerdictName(ReplyVerdict v) {
  switch (v) {
    case ReplyVerdict::kOk:
      return "OK";
    case ReplyVerdict::kTooShort:
      return "TOO_SHORT";
    case ReplyVerdict::kTemplateNonAnswer:
      return "TEMPLATE_NON_ANSWER";
    case ReplyVerdict::kOffTopic:
      return "OFF_TOPIC";
    case ReplyVerdict::kMissingPlace:
      return "MISSING_PLACE";
  }
  return "UNKNOWN";
}

absl::StatusOr<ReplyTemplates> ReplyTemplates::Parse(std::string_view content,
                                                     std::string_view source) {
  // This abseil's string_view is its own type: convert once at the boundary.
  const std::string src(source);
  ReplyTemplates t;
  std::vector<std::string>* section = nullptr;
  bool generic = false;
  int line_no = 0;
  for (absl::string_view raw :
       absl::StrSplit(absl::string_view(content.data(), content.size()), '\n')) {
    ++line_no;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    const std::string_view text(line.data(), line.size());
    if (line.empty() || line[0] == '#') continue;
    auto where = [&] { return absl::StrCat(src, ":", line_no, ": "); };
    if (line.front() == '[') {
      if (line == "[non-answer]") {
        section = &t.non_answer_, generic = false;
      } else if (line == "[courtesy]") {
        section = &t.courtesy_, generic = false;
      } else if (line == "[generic]") {
        section = nullptr, generic = true;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            where(), "section: unknown '", line, "' (want [non-answer], [courtesy] or [generic])"));
      }
      continue;
    }
    if (section == nullptr && !generic) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "phrase: '", line, "' comes before any [section]"));
    }
    if (!IsValidUtf8(text)) {
      return absl::InvalidArgumentError(absl::StrCat(where(), "phrase: not valid UTF-8"));
    }
    std::string phrase(absl::StripAsciiWhitespace(NormalizeText(text)));
    if (phrase.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "phrase: '", line, "' is only punctuation"));
    }
    if (generic) {
      // Generic words are compared as bigrams: a longer word contributes each of its bigrams.
      for (auto& g : CharNgrams(phrase, /*with_unigrams=*/false)) t.generic_.insert(std::move(g));
    } else {
      section->push_back(std::move(phrase));
    }
  }
  auto longest_first = [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  };
  std::sort(t.non_answer_.begin(), t.non_answer_.end(), longest_first);
  std::sort(t.courtesy_.begin(), t.courtesy_.end(), longest_first);
  if (t.non_answer_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(src, ": non-answer: no phrases (the check would flag nothing)"));
  }
  return t;
}

absl::StatusOr<ReplyTemplates> ReplyTemplates::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), path);
}

ReplyAssessment AssessReply(std::string_view request_text, std::string_view request_place,
                            std::string_view reply_text, const ReplyTemplates& templates,
                            const ReplyQualityOptions& options) {
  ReplyAssessment a;
  const auto& generic = templates.generic();
  const auto request_bigrams = ContentBigrams(NormalizeText(request_text), generic);

  // What the reply says of its own: no echo of the request, no template phrase.
  std::string reply = NormalizeText(DropQuotedEchoes(reply_text, request_bigrams, generic));
  const std::string reply_compact = RemoveSpaces(reply);
  std::string substance = reply;
  bool non_answer = false;
  for (const auto& p : templates.non_answer()) {
    if (TakeOut(&substance, p)) {
      non_answer = true;
      a.matched_phrases.push_back(p);
    }
  }
  for (const auto& p : templates.courtesy()) {
    if (TakeOut(&substance, p)) a.matched_phrases.push_back(p);
  }
  a.explanation_chars = ExplanationChars(substance);

  // Does it speak of the request's matter?
  const auto reply_bigrams = ContentBigrams(substance, generic);
  for (const auto& g : reply_bigrams) a.shared_bigrams += request_bigrams.count(g);
  size_t smaller = std::min(request_bigrams.size(), reply_bigrams.size());
  a.overlap = smaller == 0 ? 0 : static_cast<double>(a.shared_bigrams) / smaller;
  const bool topic_checked = !request_bigrams.empty();

  // And of its place?
  std::vector<std::string> places =
      absl::StrSplit(NormalizeText(request_place), ' ', absl::SkipEmpty());
  size_t named = 0;
  for (const auto& p : places) {
    if (PlaceNamed(p, reply_compact)) {
      ++named;
    } else {
      a.missing_places.push_back(p);
    }
  }
  const bool place_ok = places.empty() || named > 0;

  a.score = 0.4 * std::min(1.0, a.explanation_chars / 100.0) +
            0.4 * (topic_checked ? std::min(1.0, a.overlap / 0.10) : 1.0) +
            0.2 * (place_ok ? 1.0 : 0.0);

  const std::string phrases = absl::StrJoin(a.matched_phrases, "», «");
  if (a.explanation_chars < options.min_explanation_chars) {
    if (!a.matched_phrases.empty()) {
      a.verdict = ReplyVerdict::kTemplateNonAnswer;
      a.reasons.push_back(absl::StrCat("only template phrases («", phrases, "») and ",
                                       a.explanation_chars, " characters besides (minimum ",
                                       options.min_explanation_chars, ")"));
    } else {
      a.verdict = ReplyVerdict::kTooShort;
      a.reasons.push_back(absl::StrCat(a.explanation_chars, " explanatory characters (minimum ",
                                       options.min_explanation_chars, ")"));
    }
  } else if (non_answer && a.explanation_chars < options.min_explanation_with_non_answer) {
    a.verdict = ReplyVerdict::kTemplateNonAnswer;
    a.reasons.push_back(absl::StrCat(
        "acknowledges or passes the matter on («", phrases, "») with only ", a.explanation_chars,
        " characters of explanation (minimum ", options.min_explanation_with_non_answer, ")"));
  }
  if (topic_checked &&
      (a.shared_bigrams < options.min_shared_bigrams || a.overlap < options.min_overlap)) {
    if (a.verdict == ReplyVerdict::kOk) a.verdict = ReplyVerdict::kOffTopic;
    a.reasons.push_back(absl::StrFormat(
        "shares %d of the request's words (character bigrams), %.1f%% of the smaller text "
        "(minimum %d and %.1f%%)",
        a.shared_bigrams, 100 * a.overlap, options.min_shared_bigrams, 100 * options.min_overlap));
  }
  if (!place_ok) {
    if (a.verdict == ReplyVerdict::kOk) a.verdict = ReplyVerdict::kMissingPlace;
    a.reasons.push_back(
        absl::StrCat("names none of the request's places (", absl::StrJoin(places, ", "), ")"));
  }
  return a;
}

std::vector<std::string> ExtractPlaces(std::string_view text) {
  auto cps = DecodeUtf8(NormalizeText(text));
  std::vector<std::string> out;
  auto add = [&](std::string place) {
    if (std::find(out.begin(), out.end(), place) == out.end()) out.push_back(std::move(place));
  };
  for (size_t i = 1; i < cps.size(); ++i) {
    std::u32string suffix = SuffixAt(cps, i);
    if (suffix.empty()) continue;
    // District codes and names (区/县/市) are left out: the district is usually the replying
    // body's own jurisdiction and its reply does not repeat it, so asking for it flags good
    // replies (16% of the real ones); the street, community, road or village is the check.
    if (suffix == U"区" || suffix == U"县" || suffix == U"市") {
      i += suffix.size() - 1;
      continue;
    }
    {
      // A Chinese name: up to 4 characters back, stopping at a function word, a space or the
      // end of another place name.
      size_t j = i;
      while (j > 0 && i - j < 4 && IsCjk(cps[j - 1]) && !IsPlaceStop(cps[j - 1])) {
        if (j < i && !SuffixAt(cps, j - 1).empty()) break;
        --j;
      }
      if (i - j >= 2) add(Encode(cps, j, i + suffix.size()));
    }
    i += suffix.size() - 1;
  }
  return out;
}

absl::StatusOr<std::vector<ReplySample>> ReadRepliesCsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<std::string> header, row;
  if (!ReadCsvRecord(in, &header)) return absl::InvalidArgumentError(absl::StrCat(path, ": empty"));
  if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0) header[0] = header[0].substr(3);
  int id = -1, title = -1, detail = -1, reply = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    int col = static_cast<int>(i);
    if (header[i] == "msg_id") id = col;
    if (header[i] == "title") title = col;
    if (header[i] == "detail") detail = col;
    if (header[i] == "reply") reply = col;
  }
  if (title < 0 || detail < 0 || reply < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": header: needs 'title', 'detail' and 'reply' columns"));
  }
  const size_t need = static_cast<size_t>(std::max({id, title, detail, reply}));
  std::vector<ReplySample> out;
  size_t record = 1;
  while (ReadCsvRecord(in, &row)) {
    ++record;
    if (row.size() == 1 && row[0].empty()) continue;
    if (row.size() <= need) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": record ", record, " has ", row.size(),
                                                     " fields, expected ", header.size()));
    }
    if (!IsValidUtf8(row[title]) || !IsValidUtf8(row[detail]) || !IsValidUtf8(row[reply])) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": record ", record, ": not valid UTF-8"));
    }
    out.push_back({id >= 0 ? row[id] : absl::StrCat(record), row[title], row[detail], row[reply]});
  }
  return out;
}

}  // namespace hotline::dispatch

#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hotline {

// Text handling shared by intake (knowledge base, duplicates) and dispatch (the classifier).

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool IsValidUtf8(std::string_view s);
// Code points in a valid UTF-8 string.
size_t Utf8Length(std::string_view s);
// Decodes valid UTF-8 into code points.
std::vector<char32_t> DecodeUtf8(std::string_view s);
void AppendUtf8(char32_t c, std::string* out);

// Traditional → Simplified Chinese with OpenCC (t2s). Thread-safe; the converter is loaded once.
// Returns the input unchanged when OpenCC's data is missing (logged once).
std::string ToSimplified(std::string_view s);

// The form every comparison works on: Simplified, full-width ASCII folded to half-width,
// ASCII lower-cased, punctuation and whitespace runs collapsed to one space.
std::string NormalizeText(std::string_view s);

// Features of normalised text: every CJK character and CJK character bigram, and every ASCII
// word (letters/digits). Used by BM25 retrieval and by near-duplicate similarity.
std::vector<std::string> CharNgrams(std::string_view normalized, bool with_unigrams = true);

// Jaccard similarity of the bigram sets of two normalised texts, 0..1.
double BigramJaccard(std::string_view a, std::string_view b);

// Masks the personal data a citizen writes into free text, so text that leaves intake (events,
// departments, Open311) carries none in clear:
//   e-mail addresses               zhang.san@example.com → z***@example.com
//   mainland ID-card numbers       110105199003071234 → 110***********1234 (18 digits, the last
//                                  may be X; and the old 15-digit form), recognised by their
//                                  region digit and a real date of birth, not by the check digit,
//                                  so a mistyped number is masked too
//   phone numbers                  138****1234 (MaskPhone): mobiles, landlines with or without
//                                  area code, +86 / 0086 and +<country> numbers
// Digits separated by single spaces or dashes count as one number ("138 1234 5678"). Ordinary
// numbers stay as written: dates (2024-03-15, 20240315), amounts, house and room numbers,
// order and invoice numbers that are none of the above.
std::string RedactPersonalData(std::string_view text);

}  // namespace hotline

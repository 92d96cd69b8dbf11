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

}  // namespace hotline

#pragma once

#include <istream>
#include <string>
#include <vector>

namespace hotline {

// Reads one RFC 4180 CSV record: fields may be quoted, quotes doubled, newlines inside quotes.
// False at the end of the input.
bool ReadCsvRecord(std::istream& in, std::vector<std::string>* fields);

}  // namespace hotline

#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace hotline::flags {

// A small command-line flag parser for the project's tools: only declared flags are accepted,
// values are parsed without exceptions, and every error names the flag
// ("--threshold: 'abc' is not a number"). Accepts `--name value` and `--name=value`; `--help`
// and `-h` ask for the usage. Arguments not starting with "--" are positional.
class FlagParser {
 public:
  // `usage` is printed first by Usage(): the synopsis, e.g. "hotline-train evaluate --model M ...".
  explicit FlagParser(std::string usage) : usage_(std::move(usage)) {}

  void String(const std::string& name, std::string* out, const std::string& help);
  // May be given several times; every value is appended.
  void Strings(const std::string& name, std::vector<std::string>* out, const std::string& help);
  void Int(const std::string& name, int64_t* out, int64_t min, int64_t max,
           const std::string& help);
  void Double(const std::string& name, double* out, double min, double max,
              const std::string& help);
  // A switch without a value.
  void Bool(const std::string& name, bool* out, const std::string& help);
  // Marks a declared flag as required: Parse fails naming it when it is absent.
  void Require(const std::string& name);

  // Parses args (not the program name). INVALID_ARGUMENT naming the flag on an unknown flag, a
  // missing or malformed value, or a missing required flag. Nothing is checked once --help is seen.
  absl::Status Parse(const std::vector<std::string>& args);
  bool help() const { return help_; }
  const std::vector<std::string>& positional() const { return positional_; }
  bool seen(const std::string& name) const;
  // The synopsis and one line per flag with its help and default.
  std::string Usage() const;

 private:
  struct Flag {
    std::string help;
    std::string default_text;
    bool takes_value = true;
    bool required = false;
    bool seen = false;
    std::function<absl::Status(const std::string& value)> set;
  };
  Flag& Declare(const std::string& name, std::string help, std::string default_text,
                bool takes_value);

  std::string usage_;
  std::vector<std::string> order_;
  std::map<std::string, Flag> flags_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// For a tool's main: parses argv[first..]. On --help prints the usage to stdout and exits 0; on
// an error prints "<program>: <error>" and a hint to stderr and exits 2.
void ParseOrExit(FlagParser& parser, const std::string& program, int argc, char** argv,
                 int first = 1);

}  // namespace hotline::flags

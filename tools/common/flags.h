#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace hotline::flags {

// A small command-line flag parser for the project's tools: only declared flags are accepted,
// values are parsed without exceptions, and every error names the flag
// ("--threshold: 'abc' is not a number"). Accepts `--name value` and `--name=value`; `--help`
// and `-h` ask for the usage. Arguments not starting with "--" are positional, and so is
// everything after a lone "--" (a positional that starts with '-', e.g. a negative number).
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
  // Every flag that takes a value refuses an empty one ("--name: needs a non-empty value"), for
  // tools where an empty value is a mistake (a shell variable that was not set) rather than a
  // way to say "use the default".
  void RejectEmptyValues() { reject_empty_values_ = true; }
  // How an unknown flag is reported: "--name: unknown flag" (the default, the "field: reason"
  // form of every other error) or "unknown flag --name", the wording hotline-health and
  // hotlinectl have always used and their users' scripts may match.
  enum class UnknownFlagWording { kNameFirst, kReasonFirst };
  void set_unknown_flag_wording(UnknownFlagWording w) { unknown_wording_ = w; }

  // Parses args (not the program name). INVALID_ARGUMENT naming the flag on an unknown flag, a
  // missing or malformed value, or a missing required flag. Nothing is checked once --help is seen.
  absl::Status Parse(const std::vector<std::string>& args);
  // Parse for argv[first..].
  absl::Status Parse(int argc, char** argv, int first = 1);
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
  absl::Status Unknown(const std::string& name) const;

  std::string usage_;
  std::vector<std::string> order_;
  std::map<std::string, Flag> flags_;
  std::vector<std::string> positional_;
  bool help_ = false;
  bool reject_empty_values_ = false;
  UnknownFlagWording unknown_wording_ = UnknownFlagWording::kNameFirst;
};

// For a tool's main: parses argv[first..]. On --help prints the usage to stdout and exits 0; on
// an error prints it with UsageError and exits 2.
void ParseOrExit(FlagParser& parser, const std::string& program, int argc, char** argv,
                 int first = 1);

// ParseOrExit for a main that has more to check after the flags (positional arguments, flags
// that go together) and reports those the same way: prints as ParseOrExit does and returns the
// exit code (0 after --help, 2 on an error), or -1 when the tool should go on.
int ParseArgs(FlagParser& parser, const std::string& program, int argc, char** argv, int first = 1);

// Prints "<program>: <message>" and a hint to --help to stderr; returns 2, the exit code for a
// wrong command line.
int UsageError(const std::string& program, absl::string_view message);

}  // namespace hotline::flags

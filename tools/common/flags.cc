#include "tools/common/flags.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace hotline::flags {
namespace {

std::string Shown(double v) { return absl::StrCat(v); }

// "  --name V   help", the help wrapped at word boundaries so that a line stays within 100
// columns, continuation lines indented under the first.
std::string UsageLine(const std::string& flag, const std::string& help) {
  constexpr size_t kColumn = 27, kWidth = 100;
  std::string out = absl::StrCat("  ", flag);
  out.resize(std::max(out.size() + 1, kColumn), ' ');
  size_t line_start = 0;
  bool first_word = true;
  for (absl::string_view word : absl::StrSplit(help, ' ', absl::SkipEmpty())) {
    if (!first_word && out.size() - line_start + 1 + word.size() > kWidth) {
      out += "\n";
      line_start = out.size();
      out.append(kColumn, ' ');
    } else if (!first_word) {
      out += ' ';
    }
    absl::StrAppend(&out, word);
    first_word = false;
  }
  return out + "\n";
}

}  // namespace

FlagParser::Flag& FlagParser::Declare(const std::string& name, std::string help,
                                      std::string default_text, bool takes_value) {
  if (!flags_.count(name)) order_.push_back(name);
  Flag& f = flags_[name];
  f.help = std::move(help);
  f.default_text = std::move(default_text);
  f.takes_value = takes_value;
  return f;
}

void FlagParser::String(const std::string& name, std::string* out, const std::string& help) {
  Declare(name, help, *out, true).set = [out](const std::string& v) {
    *out = v;
    return absl::OkStatus();
  };
}

void FlagParser::Strings(const std::string& name, std::vector<std::string>* out,
                         const std::string& help) {
  Declare(name, help, "", true).set = [out](const std::string& v) {
    out->push_back(v);
    return absl::OkStatus();
  };
}

void FlagParser::Int(const std::string& name, int64_t* out, int64_t min, int64_t max,
                     const std::string& help) {
  Declare(name, help, absl::StrCat(*out), true).set = [=](const std::string& v) {
    int64_t x = 0;
    if (!absl::SimpleAtoi(v, &x)) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": '", v, "' is not an integer"));
    }
    if (x < min || x > max) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": ", x, " is out of range [", min, ", ", max, "]"));
    }
    *out = x;
    return absl::OkStatus();
  };
}

void FlagParser::Double(const std::string& name, double* out, double min, double max,
                        const std::string& help) {
  Declare(name, help, Shown(*out), true).set = [=](const std::string& v) {
    double x = 0;
    if (!absl::SimpleAtod(v, &x) || !std::isfinite(x)) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": '", v, "' is not a number"));
    }
    if (x < min || x > max) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": ", v, " is out of range [",
                                                     Shown(min), ", ", Shown(max), "]"));
    }
    *out = x;
    return absl::OkStatus();
  };
}

void FlagParser::Bool(const std::string& name, bool* out, const std::string& help) {
  Declare(name, help, "", false).set = [out](const std::string&) {
    *out = true;
    return absl::OkStatus();
  };
}

void FlagParser::Require(const std::string& name) { flags_.at(name).required = true; }

bool FlagParser::seen(const std::string& name) const {
  auto it = flags_.find(name);
  return it != flags_.end() && it->second.seen;
}

absl::Status FlagParser::Unknown(const std::string& name) const {
  if (unknown_wording_ == UnknownFlagWording::kReasonFirst) {
    return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
  }
  if (name.rfind("--", 0) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": unknown flag (flags are --name value)"));
  }
  return absl::InvalidArgumentError(absl::StrCat(name, ": unknown flag"));
}

absl::Status FlagParser::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      help_ = true;
      return absl::OkStatus();
    }
    if (a == "--") {  // the rest are positional, even if they start with '-'
      positional_.insert(positional_.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (a.rfind("--", 0) != 0) {
      if (a.size() > 1 && a[0] == '-') return Unknown(a);
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    auto it = flags_.find(name);
    if (it == flags_.end()) return Unknown("--" + name);
    Flag& f = it->second;
    if (!f.takes_value) {
      if (inline_value)
        return absl::InvalidArgumentError(absl::StrCat("--", name, ": takes no value"));
    } else if (!inline_value) {
      if (i + 1 >= args.size())
        return absl::InvalidArgumentError(absl::StrCat("--", name, ": needs a value"));
      value = args[++i];
    }
    if (f.takes_value && value.empty() && reject_empty_values_)
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": needs a non-empty value"));
    if (auto s = f.set(value); !s.ok()) return s;
    f.seen = true;
  }
  for (const auto& name : order_) {
    const Flag& f = flags_.at(name);
    if (f.required && !f.seen)
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": is required"));
  }
  return absl::OkStatus();
}

absl::Status FlagParser::Parse(int argc, char** argv, int first) {
  std::vector<std::string> args;
  for (int i = first; i < argc; ++i) args.emplace_back(argv[i]);
  return Parse(args);
}

std::string FlagParser::Usage() const {
  std::string out = absl::StrCat("usage: ", usage_, "\n");
  for (const auto& name : order_) {
    const Flag& f = flags_.at(name);
    std::string text = f.help;
    if (f.required) {
      absl::StrAppend(&text, " (required)");
    } else if (!f.default_text.empty()) {
      absl::StrAppend(&text, " (default ", f.default_text, ")");
    }
    absl::StrAppend(&out, UsageLine(absl::StrCat("--", name, f.takes_value ? " V" : ""), text));
  }
  absl::StrAppend(&out, UsageLine("--help", "this text"));
  return out;
}

int ParseArgs(FlagParser& parser, const std::string& program, int argc, char** argv, int first) {
  auto s = parser.Parse(argc, argv, first);
  if (parser.help()) {
    std::fputs(parser.Usage().c_str(), stdout);
    return 0;
  }
  if (!s.ok()) return UsageError(program, s.message());
  return -1;
}

void ParseOrExit(FlagParser& parser, const std::string& program, int argc, char** argv, int first) {
  if (int rc = ParseArgs(parser, program, argc, argv, first); rc >= 0) std::exit(rc);
}

int UsageError(const std::string& program, absl::string_view message) {
  std::fprintf(stderr, "%s: %s\n(%s --help lists the flags)\n", program.c_str(),
               std::string(message).c_str(), program.c_str());
  return 2;
}

}  // namespace hotline::flags

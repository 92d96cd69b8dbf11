#include "tools/common/flags.h"

#include <catch2/catch.hpp>

using hotline::flags::FlagParser;

namespace {

struct Opts {
  std::string model = "m.bin";
  std::vector<std::string> inputs;
  double threshold = -1;
  int64_t seed = 42;
  bool verbose = false;
};

FlagParser Parser(Opts* o) {
  FlagParser p("tool evaluate [flags]");
  p.String("model", &o->model, "model file");
  p.Strings("input", &o->inputs, "CSV; repeatable");
  p.Double("threshold", &o->threshold, 0, 1, "threshold");
  p.Int("seed", &o->seed, 0, 100, "seed");
  p.Bool("verbose", &o->verbose, "say more");
  return p;
}

std::string Error(const std::vector<std::string>& args) {
  Opts o;
  auto p = Parser(&o);
  auto s = p.Parse(args);
  CHECK(absl::IsInvalidArgument(s));
  return std::string(s.message());
}

}  // namespace

TEST_CASE("declared flags parse in both spellings, repeat, and keep their defaults") {
  Opts o;
  auto p = Parser(&o);
  REQUIRE(
      p.Parse({"--input", "a.csv", "--threshold=0.7", "--input=b.csv", "--verbose", "extra"}).ok());
  CHECK(o.inputs == std::vector<std::string>{"a.csv", "b.csv"});
  CHECK(o.threshold == 0.7);
  CHECK(o.verbose);
  CHECK(o.model == "m.bin");
  CHECK(o.seed == 42);
  CHECK(p.seen("threshold"));
  CHECK_FALSE(p.seen("seed"));
  CHECK(p.positional() == std::vector<std::string>{"extra"});
  CHECK_FALSE(p.help());
}

TEST_CASE("unknown and malformed flags are refused naming the flag") {
  CHECK(Error({"--threshold", "abc"}) == "--threshold: 'abc' is not a number");
  CHECK(Error({"--threshold", "nan"}) == "--threshold: 'nan' is not a number");
  CHECK(Error({"--threshold", "1.5"}) == "--threshold: 1.5 is out of range [0, 1]");
  CHECK(Error({"--seed", "7x"}) == "--seed: '7x' is not an integer");
  CHECK(Error({"--seed", "101"}) == "--seed: 101 is out of range [0, 100]");
  CHECK(Error({"--seed", "99999999999999999999"}) ==
        "--seed: '99999999999999999999' is not an integer");
  CHECK(Error({"--bogus", "1"}) == "--bogus: unknown flag");
  CHECK(Error({"-x"}) == "-x: unknown flag (flags are --name value)");
  CHECK(Error({"--model"}) == "--model: needs a value");
  CHECK(Error({"--verbose=yes"}) == "--verbose: takes no value");
}

TEST_CASE("required flags, --help and the usage text") {
  Opts o;
  auto p = Parser(&o);
  p.Require("input");
  auto s = p.Parse({"--model", "x"});
  CHECK(std::string(s.message()) == "--input: is required");

  Opts o2;
  auto h = Parser(&o2);
  h.Require("input");
  // Flags are read in order: an error before --help is still an error.
  CHECK(h.Parse({"--threshold", "abc", "--help"}) ==
        absl::InvalidArgumentError("--threshold: 'abc' is not a number"));
  Opts o3;
  auto h3 = Parser(&o3);
  h3.Require("input");
  REQUIRE(h3.Parse({"--help"}).ok());  // nothing else is checked once help is asked for
  CHECK(h3.help());
  std::string usage = h3.Usage();
  CHECK(usage.rfind("usage: tool evaluate [flags]\n", 0) == 0);
  CHECK(usage.find("--threshold V") != std::string::npos);
  CHECK(usage.find("(default 42)") != std::string::npos);
  CHECK(usage.find("(required)") != std::string::npos);
  CHECK(usage.find("--help") != std::string::npos);
}

TEST_CASE("a lone -- ends the flags; what follows is positional even with a leading dash") {
  Opts o;
  auto p = Parser(&o);
  REQUIRE(p.Parse({"--verbose", "-", "--", "--model", "-5", "--help"}).ok());
  CHECK(o.verbose);
  CHECK(o.model == "m.bin");
  CHECK_FALSE(p.help());
  CHECK(p.positional() == std::vector<std::string>{"-", "--model", "-5", "--help"});
}

TEST_CASE("RejectEmptyValues refuses an empty value naming the flag; by default it is kept") {
  Opts o;
  auto lenient = Parser(&o);
  REQUIRE(lenient.Parse({"--model="}).ok());
  CHECK(o.model.empty());
  CHECK(lenient.seen("model"));

  Opts o2;
  auto strict = Parser(&o2);
  strict.RejectEmptyValues();
  CHECK(strict.Parse({"--model", ""}) ==
        absl::InvalidArgumentError("--model: needs a non-empty value"));
  Opts o3;
  auto strict3 = Parser(&o3);
  strict3.RejectEmptyValues();
  CHECK(strict3.Parse({"--input="}) ==
        absl::InvalidArgumentError("--input: needs a non-empty value"));
  CHECK(o3.inputs.empty());
  REQUIRE(strict3.Parse({"--verbose"}).ok());  // a switch has no value to be empty
}

TEST_CASE("unknown flags can be reported reason first") {
  for (const auto& [arg, want] :
       std::vector<std::pair<std::string, std::string>>{{"--bogus", "unknown flag --bogus"},
                                                        {"--bogus=1", "unknown flag --bogus"},
                                                        {"-x", "unknown flag -x"}}) {
    Opts o;
    auto p = Parser(&o);
    p.set_unknown_flag_wording(FlagParser::UnknownFlagWording::kReasonFirst);
    CHECK(p.Parse({arg}) == absl::InvalidArgumentError(want));
  }
}

TEST_CASE("ParseArgs returns the exit code: 0 for --help, 2 for an error, -1 to go on") {
  auto run = [](std::vector<std::string> args) {
    Opts o;
    auto p = Parser(&o);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return hotline::flags::ParseArgs(p, "tool", static_cast<int>(argv.size()), argv.data(), 1);
  };
  CHECK(run({"tool", "--seed", "3", "x"}) == -1);
  CHECK(run({"tool", "--seed", "3", "--help"}) == 0);
  CHECK(run({"tool", "--seed", "x"}) == 2);
  CHECK(hotline::flags::UsageError("tool", "a command is required") == 2);
}

TEST_CASE("long help text is wrapped under its column") {
  std::string s;
  FlagParser p("tool");
  p.String("name", &s,
           "a help text long enough that it cannot fit on one line of a terminal a hundred "
           "columns wide, so it continues below");
  std::string usage = p.Usage();
  size_t line_start = 0, lines = 0;
  while (line_start < usage.size()) {
    size_t end = usage.find('\n', line_start);
    CHECK(end - line_start <= 100);
    line_start = end + 1;
    ++lines;
  }
  CHECK(lines == 4);  // usage, the two lines of --name, --help
  CHECK(usage.find("\n" + std::string(27, ' ') + "hundred columns wide, so it continues below\n") !=
        std::string::npos);
}

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

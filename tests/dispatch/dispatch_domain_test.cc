#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <set>

#include "services/dispatch/classifier.h"
#include "services/dispatch/lifecycle.h"
#include "services/dispatch/responsibility.h"
#include "tests/support/processes.h"

using namespace hotline;
using namespace hotline::dispatch;

TEST_CASE("the ticket state machine allows the legal moves and names the illegal ones") {
  using S = v1::TicketState;
  struct Step {
    Action a;
    S to;
  };
  // The happy path: dispatched → accepted → extension → granted → replied → closed → reopened.
  S s = v1::TICKET_STATE_CREATED;
  for (Step step : {Step{Action::kAutoDispatch, v1::TICKET_STATE_DISPATCHED},
                    Step{Action::kAccept, v1::TICKET_STATE_ACCEPTED},
                    Step{Action::kRequestExtension, v1::TICKET_STATE_EXTENSION_REQUESTED},
                    Step{Action::kGrantExtension, v1::TICKET_STATE_EXTENSION_GRANTED},
                    Step{Action::kReply, v1::TICKET_STATE_REPLIED},
                    Step{Action::kClose, v1::TICKET_STATE_CLOSED},
                    Step{Action::kReopen, v1::TICKET_STATE_REOPENED},
                    Step{Action::kAccept, v1::TICKET_STATE_ACCEPTED}}) {
    auto next = NextState(s, step.a);
    REQUIRE(next.ok());
    CHECK(*next == step.to);
    s = *next;
  }
  CHECK(*NextState(v1::TICKET_STATE_CREATED, Action::kTriage) == v1::TICKET_STATE_PENDING_TRIAGE);
  CHECK(*NextState(v1::TICKET_STATE_DISPATCHED, Action::kReturn) == v1::TICKET_STATE_RETURNED);
  CHECK(*NextState(v1::TICKET_STATE_RETURNED, Action::kAssign) == v1::TICKET_STATE_DISPATCHED);
  CHECK(*NextState(v1::TICKET_STATE_EXTENSION_REQUESTED, Action::kRefuseExtension) ==
        v1::TICKET_STATE_ACCEPTED);

  auto bad = NextState(v1::TICKET_STATE_DISPATCHED, Action::kClose);
  REQUIRE(absl::IsFailedPrecondition(bad.status()));
  CHECK(std::string(bad.status().message()) ==
        "cannot close a ticket in state TICKET_STATE_DISPATCHED");
  CHECK(absl::IsFailedPrecondition(NextState(v1::TICKET_STATE_ACCEPTED, Action::kReturn).status()));
  CHECK(absl::IsFailedPrecondition(NextState(v1::TICKET_STATE_CLOSED, Action::kAccept).status()));
  CHECK(absl::IsFailedPrecondition(
      NextState(v1::TICKET_STATE_PENDING_TRIAGE, Action::kReply).status()));
  CHECK(absl::IsFailedPrecondition(NextState(v1::TICKET_STATE_CREATED, Action::kReopen).status()));
}

TEST_CASE(
    "the responsibility matrix resolves district overrides, category defaults and the fallback") {
  testing::TempDir dir;
  std::ofstream(dir.path() + "/d.tsv")
      << "# id name contact calendar\na\tA\t1\tcn\nb\tB\t2\tcn\nc\tC\t3\tcn\n";
  std::ofstream(dir.path() + "/m.tsv") << "roads\t*\ta\nroads\teast\tb\n*\t*\tc\n";
  auto m = ResponsibilityMatrix::Load(dir.path() + "/d.tsv", dir.path() + "/m.tsv");
  REQUIRE(m.ok());
  CHECK((*m)->Resolve("roads", "west") == "a");
  CHECK((*m)->Resolve("roads", "east") == "b");
  CHECK((*m)->Resolve("noise", "east") == "c");
  std::ofstream(dir.path() + "/bad.tsv") << "roads\t*\tnobody\n";
  auto bad = ResponsibilityMatrix::Load(dir.path() + "/d.tsv", dir.path() + "/bad.tsv");
  CHECK(absl::IsInvalidArgument(bad.status()));
  CHECK(std::string(bad.status().message()).find("nobody") != std::string::npos);
}

TEST_CASE("the classifier learns categories, saves, loads and gives probabilities") {
  std::vector<LabeledText> data;
  for (int i = 0; i < 30; ++i) {
    data.push_back({"工厂偷排污水到河里，河水发黑发臭" + std::to_string(i), "环境保护"});
    data.push_back({"公司拖欠工资三个月不发" + std::to_string(i), "劳动和社会保障"});
    data.push_back({"公交车班次太少，等车很久" + std::to_string(i), "交通运输"});
  }
  TrainOptions opts;
  opts.epochs = 10;
  opts.buckets_log2 = 14;
  auto m = TextClassifier::Train(data, opts);
  REQUIRE(m.ok());
  auto p = (*m)->Predict("河边的工厂偷排污水");
  REQUIRE(p.size() == 3);
  CHECK(p[0].label == "环境保护");
  double sum = 0;
  for (const auto& x : p) sum += x.probability;
  CHECK(sum == Approx(1.0));
  CHECK((*m)->Predict("老板拖欠工资")[0].label == "劳动和社会保障");
  // Traditional input: the same features after OpenCC.
  CHECK((*m)->Predict("公車班次太少")[0].label == "交通运输");

  testing::TempDir dir;
  (*m)->set_version("t1");
  (*m)->set_recommended_threshold(0.7);
  REQUIRE((*m)->Save(dir.path() + "/m.bin").ok());
  auto loaded = TextClassifier::Load(dir.path() + "/m.bin");
  REQUIRE(loaded.ok());
  CHECK((*loaded)->version() == "t1");
  CHECK((*loaded)->recommended_threshold() == Approx(0.7));
  CHECK((*loaded)->Predict("河边的工厂偷排污水")[0].probability ==
        Approx(p[0].probability).epsilon(1e-5));
  std::ofstream(dir.path() + "/junk.bin") << "not a model";
  CHECK(absl::IsInvalidArgument(TextClassifier::Load(dir.path() + "/junk.bin").status()));

  auto ev = Evaluate(**m, data);
  CHECK(ev.accuracy > 0.95);
  CHECK(ev.macro_f1 > 0.95);
  REQUIRE_FALSE(ev.curve.empty());
  CHECK(ev.curve.front().coverage == Approx(1.0));
  double th = ThresholdForPrecision(**m, data, 0.98, 10);
  CHECK(th < 1.0);
}

TEST_CASE("labelled CSV is read per RFC 4180 and errors name the record") {
  testing::TempDir dir;
  std::ofstream(dir.path() + "/a.csv")
      << "id,label,text\n1,环境保护,\"工厂偷排,污水\"\"很臭\"\"\n第二行\"\n2,交通运输,公交太少\n";
  auto rows = ReadLabeledCsv(dir.path() + "/a.csv");
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].text == "工厂偷排,污水\"很臭\"\n第二行");
  CHECK((*rows)[1].label == "交通运输");
  std::ofstream(dir.path() + "/b.csv") << "label,body\nx,y\n";
  auto bad = ReadLabeledCsv(dir.path() + "/b.csv");
  CHECK(std::string(bad.status().message()).find("'text'") != std::string::npos);
}

TEST_CASE("on the real labelled messages, the classifier beats a fixed bar on a held-out split") {
  const std::string path = HOTLINE_REPO_DIR "/../shared/data/teddycup2020_c/messages_labeled.csv";
  if (!std::ifstream(path)) {
    WARN("SKIP: " << path << " not found; the real data stays outside the repository");
    return;
  }
  auto all = ReadLabeledCsv(path);
  REQUIRE(all.ok());
  // Every fifth distinct text is held out and never trained on.
  std::vector<LabeledText> train, test;
  std::set<std::string> seen;
  size_t i = 0;
  for (auto& r : *all) {
    if (!seen.insert(r.text).second) continue;
    (i++ % 5 == 0 ? test : train).push_back(r);
  }
  TrainOptions opts;
  opts.epochs = 15;
  auto m = TextClassifier::Train(train, opts);
  REQUIRE(m.ok());
  auto ev = Evaluate(**m, test);
  INFO("accuracy " << ev.accuracy << " macro-F1 " << ev.macro_f1);
  CHECK(ev.accuracy > 0.80);
  CHECK(ev.macro_f1 > 0.78);
}

TEST_CASE("a malformed model file is an error naming what is wrong, never an exception") {
  testing::TempDir dir;
  auto load = [&](const std::string& content) {
    std::ofstream(dir.path() + "/m.bin", std::ios::binary) << content;
    return TextClassifier::Load(dir.path() + "/m.bin");
  };
  const std::string head = "hotline-text-classifier 1\nversion v\n";
  auto bad = load(head + "threshold abc\nbuckets_log2 8\nlabels a\tb\nweights\n");
  CHECK(std::string(bad.status().message()).find("threshold: 'abc' is not a number in [0, 1]") !=
        std::string::npos);
  bad = load(head + "threshold 0.5\nbuckets_log2 99999999999999999999\nlabels a\tb\nweights\n");
  CHECK(std::string(bad.status().message())
            .find("buckets_log2: '99999999999999999999' is not an integer") != std::string::npos);
  bad = load(head + "threshold 0.5\nbuckets_log2 24\nlabels a\tb\nweights\n1234");
  CHECK(std::string(bad.status().message()).find("4 bytes, the header needs 134217736") !=
        std::string::npos);
  // The right number of bytes loads.
  auto good = load(head + "threshold 0.5\nbuckets_log2 8\nlabels a\tb\nweights\n" +
                   std::string((2 + 256 * 2) * 4, '\0'));
  REQUIRE(good.ok());
  CHECK((*good)->recommended_threshold() == 0.5);
}

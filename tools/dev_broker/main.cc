// hotline-dev-broker: a Kafka-protocol broker for laptops, tests and CI.
//
// It runs librdkafka's mock cluster (rdkafka_mock.h), which speaks the real Kafka wire protocol
// on loopback: producers, consumer groups and committed offsets work as against a real cluster,
// but nothing is written to disk. It creates Hotline's topics, prints the bootstrap address
// (and writes it to --bootstrap-file), and runs until SIGTERM/SIGINT.
//
// Fault injection for tests: SIGUSR1 takes every broker down (connections are closed and
// refused), SIGUSR2 brings them back.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "tools/common/flags.h"

namespace {

const char* kTopics[] = {"hotline.tickets.v1", "hotline.calls.v1", "hotline.sla.v1",
                         "hotline.surveys.v1", "hotline.deadletter.v1"};

}  // namespace

int main(int argc, char** argv) {
  int64_t brokers = 1;
  int64_t partitions = 6;
  std::string bootstrap_file;
  std::vector<std::string> extra_topics;
  hotline::flags::FlagParser flags(
      "hotline-dev-broker [flags]\n"
      "signals: SIGTERM/SIGINT stop; SIGUSR1 brokers down; SIGUSR2 brokers up");
  flags.Int("brokers", &brokers, 1, 16, "mock brokers on loopback");
  flags.Int("partitions", &partitions, 1, 1024, "partitions per topic");
  flags.String("bootstrap-file", &bootstrap_file, "also write the bootstrap address to this file");
  flags.Strings("topic", &extra_topics, "create this topic too (repeatable)");
  hotline::flags::ParseOrExit(flags, "hotline-dev-broker", argc, argv);
  if (!flags.positional().empty()) {
    std::cerr << "hotline-dev-broker: unexpected argument '" << flags.positional()[0] << "'\n";
    return 2;
  }
  std::vector<std::string> topics(std::begin(kTopics), std::end(kTopics));
  topics.insert(topics.end(), extra_topics.begin(), extra_topics.end());

  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before librdkafka starts its threads

  // The mock cluster lives inside a client handle; this one never sends anything itself.
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    std::cerr << "hotline-dev-broker: " << err << "\n";
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, static_cast<int>(brokers));
  if (cluster == nullptr) {
    std::cerr << "hotline-dev-broker: could not start the mock cluster\n";
    rd_kafka_destroy(rk);
    return 1;
  }
  const int replication = brokers >= 3 ? 3 : static_cast<int>(brokers);
  for (const auto& t : topics) {
    rd_kafka_resp_err_t e =
        rd_kafka_mock_topic_create(cluster, t.c_str(), static_cast<int>(partitions), replication);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::cerr << "hotline-dev-broker: topic " << t << ": " << rd_kafka_err2str(e) << "\n";
      rd_kafka_mock_cluster_destroy(cluster);
      rd_kafka_destroy(rk);
      return 1;
    }
  }
  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
  if (!bootstrap_file.empty()) {
    // Write then rename, so a reader polling for the file never sees half an address.
    const std::string tmp = bootstrap_file + ".tmp";
    std::ofstream(tmp) << bootstrap << "\n";
    if (std::rename(tmp.c_str(), bootstrap_file.c_str()) != 0) {
      std::cerr << "hotline-dev-broker: cannot write " << bootstrap_file << ": "
                << std::strerror(errno) << "\n";
      return 1;
    }
  }
  std::cout << "bootstrap=" << bootstrap << " brokers=" << brokers << " partitions=" << partitions
            << " topics=" << topics.size() << std::endl;

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGUSR1 || sig == SIGUSR2) {
      for (int b = 1; b <= static_cast<int>(brokers); ++b) {
        if (sig == SIGUSR1) {
          rd_kafka_mock_broker_set_down(cluster, b);
        } else {
          rd_kafka_mock_broker_set_up(cluster, b);
        }
      }
      std::cout << (sig == SIGUSR1 ? "brokers down" : "brokers up") << std::endl;
      continue;
    }
    break;
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  if (!bootstrap_file.empty()) std::remove(bootstrap_file.c_str());
  std::cout << "stopped" << std::endl;
  return 0;
}

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

namespace {

const char* kTopics[] = {"hotline.tickets.v1", "hotline.calls.v1", "hotline.sla.v1",
                         "hotline.surveys.v1", "hotline.deadletter.v1"};

void Usage() {
  std::cerr << "usage: hotline-dev-broker [--brokers N] [--partitions N] "
               "[--bootstrap-file PATH] [--topic NAME]...\n"
               "  --brokers N          mock brokers on loopback (default 1)\n"
               "  --partitions N       partitions per topic (default 6)\n"
               "  --bootstrap-file P   also write the bootstrap address to P\n"
               "  --topic NAME         create NAME too (repeatable)\n"
               "signals: SIGTERM/SIGINT stop; SIGUSR1 brokers down; SIGUSR2 brokers up\n";
}

bool ParseInt(const char* s, int min, int max, int* out) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < min || v > max) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  int partitions = 6;
  std::string bootstrap_file;
  std::vector<std::string> topics(std::begin(kTopics), std::end(kTopics));
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--brokers" && has_value) {
      if (!ParseInt(argv[++i], 1, 16, &brokers)) {
        std::cerr << "--brokers: expected 1..16, got '" << argv[i] << "'\n";
        return 2;
      }
    } else if (a == "--partitions" && has_value) {
      if (!ParseInt(argv[++i], 1, 1024, &partitions)) {
        std::cerr << "--partitions: expected 1..1024, got '" << argv[i] << "'\n";
        return 2;
      }
    } else if (a == "--bootstrap-file" && has_value) {
      bootstrap_file = argv[++i];
    } else if (a == "--topic" && has_value) {
      topics.emplace_back(argv[++i]);
    } else {
      Usage();
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }

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
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    std::cerr << "hotline-dev-broker: could not start the mock cluster\n";
    rd_kafka_destroy(rk);
    return 1;
  }
  const int replication = brokers >= 3 ? 3 : brokers;
  for (const auto& t : topics) {
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(cluster, t.c_str(), partitions, replication);
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
      for (int b = 1; b <= brokers; ++b) {
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

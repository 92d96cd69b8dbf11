#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace hotline::testing {

struct ReadMessage {
  std::string topic;
  int partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
  // The message's Kafka timestamp in ms since the epoch (CreateTime: when the producer was
  // handed it), -1 if it has none.
  int64_t timestamp_ms = -1;
};

// Reads `topic` from the beginning of every partition (no consumer group, so nothing is
// committed and the reader sees what any consumer would) until `want` messages arrived or
// `timeout` passed. Returns what it read.
std::vector<ReadMessage> ReadTopic(const std::string& bootstrap, const std::string& topic,
                                   size_t want, std::chrono::milliseconds timeout);

}  // namespace hotline::testing

// Which librdkafka errors the outbox treats as permanent (dead-letter) and which as transient
// (keep the entry, try again).
#include <librdkafka/rdkafkacpp.h>

#include <catch2/catch.hpp>

#include "services/common/kafka_producer.h"

using namespace hotline;

TEST_CASE("errors about the message or its topic are permanent") {
  for (RdKafka::ErrorCode e :
       {RdKafka::ERR_MSG_SIZE_TOO_LARGE, RdKafka::ERR_INVALID_MSG_SIZE,
        RdKafka::ERR_RECORD_LIST_TOO_LARGE, RdKafka::ERR_INVALID_MSG, RdKafka::ERR_INVALID_RECORD,
        RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED, RdKafka::ERR__UNKNOWN_TOPIC,
        RdKafka::ERR_TOPIC_EXCEPTION, RdKafka::ERR_POLICY_VIOLATION}) {
    INFO(RdKafka::err2str(e));
    CHECK(IsPermanentKafkaError(e));
    absl::Status s = KafkaDeliveryStatus(e, "hotline.tickets.v1");
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(IsPermanentPublishFailure(s));
    CHECK_THAT(std::string(s.message()),
               Catch::Contains("hotline.tickets.v1") && Catch::Contains(RdKafka::err2str(e)));
  }
}

TEST_CASE("errors about the cluster or the connection are transient") {
  // UNKNOWN_TOPIC_OR_PART from a broker is also what a leader election looks like (Kafka marks
  // it retriable); cluster authorization and a fatal producer refuse every message alike, the
  // dead-letter topic included, so dead-lettering would not help.
  for (RdKafka::ErrorCode e :
       {RdKafka::ERR__MSG_TIMED_OUT, RdKafka::ERR__TRANSPORT, RdKafka::ERR__ALL_BROKERS_DOWN,
        RdKafka::ERR__QUEUE_FULL, RdKafka::ERR_NOT_LEADER_FOR_PARTITION,
        RdKafka::ERR_UNKNOWN_TOPIC_OR_PART, RdKafka::ERR_NOT_ENOUGH_REPLICAS,
        RdKafka::ERR_REQUEST_TIMED_OUT, RdKafka::ERR_CLUSTER_AUTHORIZATION_FAILED,
        RdKafka::ERR__FATAL, RdKafka::ERR__PURGE_QUEUE}) {
    INFO(RdKafka::err2str(e));
    CHECK_FALSE(IsPermanentKafkaError(e));
    absl::Status s = KafkaDeliveryStatus(e, "t");
    CHECK(s.code() == absl::StatusCode::kUnavailable);
    CHECK_FALSE(IsPermanentPublishFailure(s));
  }
  CHECK(KafkaDeliveryStatus(RdKafka::ERR_NO_ERROR, "t").ok());
}

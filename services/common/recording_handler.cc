#include "services/common/recording_handler.h"

#include "services/common/events.h"

namespace hotline {

EventHandler MakeRecordingHandler(ServiceContext& ctx) {
  IdempotentApplier* applier = ctx.applier;
  const std::string counts = ctx.config.service + ":events_received";
  return [applier, counts](const v1::EventEnvelope& e, const MessageMeta&) -> absl::Status {
    auto r = applier->Apply(e, [&](const RedisClient::Reader&) {
      return absl::StatusOr<std::vector<RedisCommand>>(
          std::vector<RedisCommand>{{"HINCRBY", counts, PayloadName(e), "1"}});
    });
    return r.status();
  };
}

}  // namespace hotline

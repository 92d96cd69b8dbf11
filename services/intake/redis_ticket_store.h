#pragma once

#include "services/common/idempotent.h"
#include "services/common/outbox.h"
#include "services/common/redis_client.h"
#include "services/intake/ticket_store.h"

namespace hotline::intake {

// Keys (all in intake's own Redis):
//   intake:t:<id>            hash: pb (v1::Ticket), phone, name, email, wechat, code, norm,
//                            place, skeys, v
//   intake:n:<number>        → id
//   intake:idem:<key>        → id, kept 30 days
//   intake:c:<citizen_id>    zset id by created ms
//   intake:p:<place_key>     zset id by created ms (trimmed to the duplicate window)
//   intake:created           zset id by created ms (Open311 queries)
//   intake:seq:<yyyymmdd>    the day's counter, kept 3 days
//   intake:tl:<id>           the ticket's progress (v1::Ticket, TimelineRules), from events
//   intake:applied:<event>, intake:version:<source>:<id>   the IdempotentApplier's records
class RedisTicketStore final : public TicketStore {
 public:
  // `applier` is needed only by ApplyProgress (the event consumer).
  RedisTicketStore(RedisClient* redis, Outbox* outbox, IdempotentApplier* applier = nullptr)
      : redis_(redis), outbox_(outbox), applier_(applier) {}

  absl::StatusOr<std::optional<std::string>> FindByIdempotencyKey(const std::string& key) override;
  absl::StatusOr<std::optional<TicketRecord>> Get(const std::string& id_or_number) override;
  absl::StatusOr<int64_t> NextSequence(const std::string& local_date) override;
  absl::StatusOr<std::vector<TicketRecord>> Recent(const std::string& citizen_id,
                                                   const std::string& place_key, absl::Time since,
                                                   size_t limit, IndexSnapshot* snapshot) override;
  absl::StatusOr<std::string> Create(const TicketRecord& rec, const std::string& idempotency_key,
                                     const std::vector<v1::EventEnvelope>& events,
                                     const IndexSnapshot& seen) override;
  absl::Status Update(const TicketRecord& rec, int64_t expected_version,
                      const std::vector<v1::EventEnvelope>& events) override;
  absl::StatusOr<std::vector<TicketRecord>> ListByCitizen(const std::string& citizen_id,
                                                          size_t offset, size_t limit) override;
  absl::StatusOr<std::vector<TicketRecord>> ListCreated(absl::Time from, absl::Time to,
                                                        size_t limit) override;
  absl::StatusOr<ProgressOutcome> ApplyProgress(
      const v1::EventEnvelope& event, const std::string& ticket_id,
      const std::function<bool(v1::Ticket*)>& change) override;

 private:
  absl::StatusOr<std::vector<TicketRecord>> GetMany(const std::vector<std::string>& ids);

  RedisClient* redis_;
  Outbox* outbox_;
  IdempotentApplier* applier_;
};

}  // namespace hotline::intake

#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "hotline/v1/events.pb.h"
#include "hotline/v1/intake.pb.h"
#include "hotline/v1/survey.pb.h"
#include "services/common/idempotent.h"
#include "services/common/outbox.h"
#include "services/common/redis_client.h"
#include "services/common/webhook_client.h"
#include "services/survey/survey_answer.h"
#include "services/survey/survey_metrics.h"
#include "services/survey/survey_schedule.h"
#include "services/survey/survey_store.h"

namespace hotline::survey {

// Asks intake for the citizen's contact of a ticket (IntakeService/GetCallbackContact). The
// answer holds addresses in clear: used for one delivery, never stored or logged.
using ContactLookup =
    std::function<absl::StatusOr<v1::GetCallbackContactResponse>(const std::string& ticket_id)>;

struct SurveyEngineOptions {
  std::string gateway_url;
  absl::Duration tick = absl::Milliseconds(200);
  // After an attempt was handed to the gateway: no answer within this → the attempt failed.
  absl::Duration answer_wait = absl::Hours(2);
  // A claimed attempt whose sender died (or whose lookup failed) is re-sent after this, with the
  // same idempotency key, so the gateway drops it if the first one did arrive.
  absl::Duration claim_timeout = absl::Minutes(2);
  // Retry of an attempt whose contact lookup failed (intake away): not the citizen's fault, so
  // it does not use up an attempt.
  absl::Duration lookup_retry = absl::Seconds(10);
};

// The survey's worker: plans a survey per replied ticket (consumer side), contacts the citizen
// when due (one scheduler thread per process; surveys are claimed in Redis, so any number of
// instances share the work), and records answers (gRPC side).
class SurveyEngine {
 public:
  // Everything must outlive the engine.
  SurveyEngine(RedisClient* redis, Outbox* outbox, IdempotentApplier* applier,
               const SurveyScheduler* scheduler, const SurveyPolicyTable* policies,
               ContactLookup lookup, const WebhookClient* gateway, SurveyEngineOptions options,
               SurveyMetrics* metrics);
  ~SurveyEngine();

  // TicketReplied / TicketClosed plan a survey; TicketReopened / TicketWithdrawn cancel the
  // open one. Idempotent by event id. UNAVAILABLE when intake or Redis is away (the consumer
  // retries).
  absl::Status HandleEvent(const v1::EventEnvelope& e);

  // The ticket's current survey. NOT_FOUND when it has none.
  absl::StatusOr<StoredSurvey> Get(const std::string& ticket_id);
  // Stores the answer once and publishes SurveyAnswered. INVALID_ARGUMENT "field: reason",
  // NOT_FOUND without a survey, FAILED_PRECONDITION when the survey is already final (answered,
  // unreachable, opted out, cancelled).
  absl::StatusOr<StoredSurvey> RecordAnswer(const v1::RecordAnswerRequest& req,
                                            const std::string& traceparent);
  // Surveys not yet final, oldest first.
  absl::StatusOr<std::vector<StoredSurvey>> ListOpen(size_t offset, size_t limit);

  // One scheduler pass at `now`: handles every survey due (up to a batch). Returns how many.
  absl::StatusOr<int> RunOnce(absl::Time now);
  void Start();
  void Stop();

 private:
  struct Claim {
    std::string id;
    std::string ticket_id;
    int attempt = 0;
    ContactChannel channel = ContactChannel::kSms;
  };
  absl::Status Plan(const v1::EventEnvelope& e, const std::string& ticket_id,
                    const std::string& department, v1::TicketType type, bool only_if_none);
  absl::Status Cancel(const v1::EventEnvelope& e, const std::string& ticket_id);
  // Claims a due survey: the attempt to send, or nullopt when nothing is to be sent (not due,
  // final, or the answer wait ended and the attempt was counted as failed).
  absl::StatusOr<std::optional<Claim>> ClaimDue(const std::string& id, absl::Time now);
  void Deliver(const Claim& c, absl::Time now);
  // The attempt failed: next attempt or UNREACHABLE (with SurveyFailed on the outbox).
  absl::Status FailAttempt(const Claim& c, absl::Time now, const std::string& reason);
  // A failed attempt as commands: the next attempt planned, or UNREACHABLE with its SurveyFailed
  // event in the same transaction. `*unreachable` says which.
  absl::StatusOr<std::vector<RedisCommand>> FailedAttemptCommands(StoredSurvey* st, absl::Time now,
                                                                  const std::string& reason,
                                                                  bool* unreachable);
  // After an UNREACHABLE commit: wake the relay, count it, log it.
  void Unreachable(const std::string& survey_id, const std::string& reason);
  // Ends the survey outside an attempt's result (OPTED_OUT, CANCELLED) if it is still in
  // `attempt`.
  absl::Status EndSurvey(const Claim& c, SurveyAction action);
  absl::Status MarkSent(const Claim& c, absl::Time now);
  void Loop();

  RedisClient* redis_;
  Outbox* outbox_;
  IdempotentApplier* applier_;
  const SurveyScheduler* scheduler_;
  const SurveyPolicyTable* policies_;
  ContactLookup lookup_;
  const WebhookClient* gateway_;
  SurveyEngineOptions opts_;
  SurveyMetrics* metrics_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The gRPC view of a stored survey.
v1::Survey ToProto(const StoredSurvey& s);

}  // namespace hotline::survey

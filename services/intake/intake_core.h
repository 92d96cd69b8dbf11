#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hotline/v1/intake.pb.h"
#include "services/intake/knowledge_base.h"
#include "services/intake/ticket_store.h"
#include "services/intake/timeline.h"
#include "services/intake/verification_throttle.h"

namespace hotline::intake {

struct IntakeOptions {
  std::string city_code = "HL";                         // first part of ticket numbers
  absl::TimeZone zone = absl::FixedTimeZone(8 * 3600);  // the hotline's local time (dates)
  std::string pseudonym_key;                            // HMAC key of citizen ids
  absl::Duration duplicate_window = absl::Hours(72);
  double duplicate_similarity = 0.6;    // bigram Jaccard to call two texts the same problem
  double direct_answer_coverage = 0.6;  // knowledge base coverage to answer at once
  // Department id → name (INTAKE_DEPARTMENTS, the city's directory) for the timeline; empty
  // shows ids.
  std::map<std::string, std::string> department_names;
};

// What happened to a submission, for the caller and for metrics.
struct SubmitResult {
  v1::SubmitRequestResponse response;
  std::string merge_reason;
};

// The front door's rules, free of gRPC and Redis: validate, classify type and urgency, answer
// from the knowledge base, link duplicates, number the ticket, and store it with its event.
class IntakeCore {
 public:
  // `throttle` guards every use of a verification code (Track, Supplement, Withdraw).
  IntakeCore(TicketStore* store, const KnowledgeBase* kb, VerificationThrottle* throttle,
             IntakeOptions opts, std::function<absl::Time()> now = absl::Now)
      : store_(store),
        kb_(kb),
        throttle_(throttle),
        opts_(std::move(opts)),
        now_(std::move(now)),
        timeline_(opts_.department_names, opts_.zone) {}

  // `attempt` counts re-checks after a concurrent report at the same citizen or place.
  absl::StatusOr<SubmitResult> Submit(const v1::SubmitRequestRequest& req,
                                      const std::string& traceparent = "", int attempt = 0);
  absl::StatusOr<v1::Ticket> Get(const std::string& id_or_number);
  // NOT_FOUND for a wrong code as for a wrong number: tracking does not reveal which exists.
  // `caller` is the authenticated principal's name (Principal::name), whose attempts are
  // throttled together; "" throttles per ticket only. Too many wrong codes: RESOURCE_EXHAUSTED
  // until the lock ends, the right code included (VerificationThrottle).
  absl::StatusOr<v1::Ticket> Track(const std::string& number, const std::string& code,
                                   const std::string& caller = "");
  absl::StatusOr<v1::ListCitizenTicketsResponse> ListByPhone(const std::string& phone,
                                                             const v1::PageRequest& page);
  // Both check the verification code like Track, throttled the same way.
  absl::StatusOr<v1::Ticket> Supplement(const v1::AddSupplementRequest& req,
                                        const std::string& traceparent = "",
                                        const std::string& caller = "");
  absl::StatusOr<v1::Ticket> Withdraw(const v1::WithdrawTicketRequest& req,
                                      const std::string& traceparent = "",
                                      const std::string& caller = "");
  // Tickets created in [from, to), oldest first, at most `limit`.
  absl::StatusOr<std::vector<v1::Ticket>> ListCreated(absl::Time from, absl::Time to, size_t limit);
  std::vector<KnowledgeBase::Match> SearchKnowledge(const std::string& query, size_t limit) const;
  // The stored record with the citizen's contact in clear, for GetCallbackContact (the survey's
  // call back). NOT_FOUND for an unknown ticket.
  absl::StatusOr<TicketRecord> GetContactRecord(const std::string& id_or_number);

  // The event consumer's handler (hotline.tickets.v1, hotline.surveys.v1): projects dispatch's
  // and survey's events onto the ticket's timeline, once per event; skips intake's own events,
  // the ones the citizen is not told, and tickets intake does not know.
  absl::Status HandleEvent(const v1::EventEnvelope& e);

  const IntakeOptions& options() const { return opts_; }

 private:
  absl::StatusOr<TicketRecord> LoadForCitizen(const std::string& id, const std::string& code,
                                              const std::string& caller);
  absl::StatusOr<v1::SubmitRequestResponse> Replay(const std::string& ticket_id);
  // What callers see: the stored ticket joined with its progress. A report merged into another
  // ticket follows the original's progress: dispatch and survey only speak of the original.
  v1::Ticket View(const TicketRecord& rec);

  TicketStore* store_;
  const KnowledgeBase* kb_;
  VerificationThrottle* throttle_;
  IntakeOptions opts_;
  std::function<absl::Time()> now_;
  TimelineRules timeline_;
};

}  // namespace hotline::intake

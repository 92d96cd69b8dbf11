#include "services/survey/survey_engine.h"

#include <google/protobuf/util/time_util.h>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/time_proto.h"

namespace hotline::survey {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kBatch = 32;

const char* OutcomeLabel(SurveyState s) {
  switch (s) {
    case SurveyState::kAnswered:
      return "answered";
    case SurveyState::kUnreachable:
      return "unreachable";
    case SurveyState::kOptedOut:
      return "opted_out";
    case SurveyState::kCancelled:
      return "cancelled";
    default:
      return "";
  }
}

v1::SurveyState ProtoState(SurveyState s) {
  switch (s) {
    case SurveyState::kScheduled:
      return v1::SURVEY_STATE_PENDING;
    case SurveyState::kContacting:
      return v1::SURVEY_STATE_SENT;
    case SurveyState::kAnswered:
      return v1::SURVEY_STATE_ANSWERED;
    case SurveyState::kUnreachable:
      return v1::SURVEY_STATE_UNREACHABLE;
    case SurveyState::kOptedOut:
      return v1::SURVEY_STATE_OPTED_OUT;
    case SurveyState::kCancelled:
      return v1::SURVEY_STATE_CANCELLED;
  }
  return v1::SURVEY_STATE_UNSPECIFIED;
}

absl::Time OccurredAt(const v1::EventEnvelope& e) {
  if (!e.has_occurred_at()) return absl::Now();
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(e.occurred_at()));
}

// The commands that store `s` and keep the due index and the backlog in step with its state.
std::vector<RedisCommand> StateCommands(const StoredSurvey& s, absl::Time due) {
  std::vector<RedisCommand> cmds = {WriteCommand(s)};
  if (IsFinal(s.record.state)) {
    cmds.push_back({"ZREM", kDueKey, s.id});
    cmds.push_back({"ZREM", kOpenKey, s.id});
  } else {
    cmds.push_back({"ZADD", kDueKey, std::to_string(ToMs(due)), s.id});
  }
  return cmds;
}

// The address of `channel` in the lookup's answer ("" when the citizen has none).
std::string AddressFor(const v1::GetCallbackContactResponse& c, ContactChannel channel) {
  switch (channel) {
    case ContactChannel::kSms:
    case ContactChannel::kIvr:
      return c.phone();
    case ContactChannel::kWechat:
      return c.wechat_openid();
    case ContactChannel::kEmail:
      return c.email();
  }
  return "";
}

std::string MaskedFor(const v1::GetCallbackContactResponse& c, ContactChannel channel) {
  switch (channel) {
    case ContactChannel::kSms:
    case ContactChannel::kIvr:
      return c.masked_phone();
    case ContactChannel::kWechat:
      return "wechat";
    case ContactChannel::kEmail:
      return c.masked_email();
  }
  return "";
}

CitizenContact Reachability(const v1::GetCallbackContactResponse& c) {
  CitizenContact out;
  out.opted_out = c.opted_out() || c.anonymous();
  if (!c.phone().empty()) {
    out.reachable.push_back(ContactChannel::kSms);
    out.reachable.push_back(ContactChannel::kIvr);
  }
  if (!c.wechat_openid().empty()) out.reachable.push_back(ContactChannel::kWechat);
  if (!c.email().empty()) out.reachable.push_back(ContactChannel::kEmail);
  return out;
}

}  // namespace

v1::Survey ToProto(const StoredSurvey& s) {
  v1::Survey out;
  const SurveyRecord& r = s.record;
  out.set_survey_id(s.id);
  out.set_ticket_id(r.ticket_id);
  out.set_department_id(r.department_id);
  out.set_type(r.type);
  out.set_state(ProtoState(r.state));
  out.set_attempts(r.attempts_made);
  out.set_max_attempts(r.max_attempts);
  *out.mutable_due_at() = ToTimestamp(r.due_at);
  if (r.state == SurveyState::kScheduled && r.next_contact != absl::InfiniteFuture())
    *out.mutable_next_contact_at() = ToTimestamp(r.next_contact);
  for (int i = 0; i < r.attempts_made && !r.channels.empty(); ++i)
    out.add_attempt_channels(ChannelName(r.channels[i % r.channels.size()]));
  out.set_satisfaction(s.satisfaction);
  out.set_resolved(s.resolution == "yes");
  out.set_resolution(s.resolution);
  out.set_comment(s.comment);
  return out;
}

SurveyEngine::SurveyEngine(RedisClient* redis, Outbox* outbox, IdempotentApplier* applier,
                           const SurveyScheduler* scheduler, const SurveyPolicyTable* policies,
                           ContactLookup lookup, const WebhookClient* gateway,
                           SurveyEngineOptions options, SurveyMetrics* metrics)
    : redis_(redis),
      outbox_(outbox),
      applier_(applier),
      scheduler_(scheduler),
      policies_(policies),
      lookup_(std::move(lookup)),
      gateway_(gateway),
      opts_(std::move(options)),
      metrics_(metrics) {}

SurveyEngine::~SurveyEngine() { Stop(); }

absl::Status SurveyEngine::HandleEvent(const v1::EventEnvelope& e) {
  switch (e.payload_case()) {
    case v1::EventEnvelope::kTicketReplied:
      return Plan(e, e.ticket_replied().ticket_id(), e.ticket_replied().department_id(),
                  v1::TICKET_TYPE_UNSPECIFIED, false);
    case v1::EventEnvelope::kTicketClosed:
      // Closed after a reply: the reply's survey stands. Closed without one: survey the closure.
      return Plan(e, e.ticket_closed().ticket_id(), e.ticket_closed().department_id(),
                  e.ticket_closed().type(), true);
    case v1::EventEnvelope::kTicketReopened:
      return Cancel(e, e.ticket_reopened().ticket_id());
    case v1::EventEnvelope::kTicketWithdrawn:
      return Cancel(e, e.ticket_withdrawn().ticket_id());
    default:
      return absl::OkStatus();
  }
}

absl::Status SurveyEngine::Plan(const v1::EventEnvelope& e, const std::string& ticket_id,
                                const std::string& department, v1::TicketType type,
                                bool only_if_none) {
  if (ticket_id.empty()) return absl::OkStatus();  // nothing to survey; malformed upstream
  const RedisClient::Reader plain = [this](const RedisCommand& c) { return redis_->Command(c); };
  // Cheap check first: a closure after a surveyed reply asks intake nothing.
  auto current = ReadCurrent(plain, ticket_id);
  if (!current.ok()) return current.status();
  if (only_if_none && !current->empty()) return absl::OkStatus();
  // The flags (opted out, which channels) and the ticket's type, which TicketReplied lacks. The
  // addresses in the answer are dropped here.
  auto contact = lookup_(ticket_id);
  if (absl::IsNotFound(contact.status())) {
    LogWarn("no survey: intake does not know the ticket", {{"ticket_id", ticket_id}});
    return absl::OkStatus();
  }
  if (!contact.ok()) return contact.status();
  if (type == v1::TICKET_TYPE_UNSPECIFIED) type = contact->type();
  RepliedTicket t{ticket_id, type, department, OccurredAt(e)};
  SurveyPlan plan = scheduler_->Plan(t, Reachability(*contact));
  if (!plan.create) {
    LogInfo("no survey", {{"ticket_id", ticket_id}, {"reason", plan.reason}});
    return absl::OkStatus();
  }
  StoredSurvey s;
  s.id = "sv-" + e.event_id();
  s.record = plan.record;
  bool written = false;
  auto applied = applier_->Apply(
      e,
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        written = false;
        auto cur = ReadCurrent(read, ticket_id);
        if (!cur.ok()) return cur.status();
        if (!cur->empty()) {
          auto old = ReadSurvey(read, *cur);
          if (!old.ok()) return old.status();
          // A second reply while the first one's survey is still running: that one goes on.
          if (only_if_none || (*old && !IsFinal((*old)->record.state)))
            return std::vector<RedisCommand>{};
        }
        std::vector<RedisCommand> cmds = StateCommands(s, s.record.next_contact);
        cmds.push_back({"SET", TicketKey(ticket_id), s.id});
        if (!IsFinal(s.record.state))
          cmds.push_back({"ZADD", kOpenKey, std::to_string(ToMs(absl::Now())), s.id});
        written = true;
        return cmds;
      },
      {TicketKey(ticket_id)});
  if (!applied.ok()) return applied.status();
  if (*applied != IdempotentApplier::Outcome::kApplied || !written) return absl::OkStatus();
  const std::string type_key = SurveyTypeKey(type);
  if (plan.decision == SurveyDecision::kSurveyed) {
    metrics_->Scheduled(type_key);
  } else {
    metrics_->Outcome(OutcomeLabel(s.record.state));
  }
  LogInfo("survey planned",
          {{"ticket_id", ticket_id},
           {"survey_id", s.id},
           {"state", SurveyStateName(s.record.state)},
           {"reason", plan.reason},
           {"first_contact",
            absl::FormatTime(absl::RFC3339_sec, s.record.next_contact, absl::UTCTimeZone())}});
  return absl::OkStatus();
}

absl::Status SurveyEngine::Cancel(const v1::EventEnvelope& e, const std::string& ticket_id) {
  if (ticket_id.empty()) return absl::OkStatus();
  bool cancelled = false;
  auto applied = applier_->Apply(
      e,
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        cancelled = false;
        auto cur = ReadCurrent(read, ticket_id);
        if (!cur.ok()) return cur.status();
        if (cur->empty()) return std::vector<RedisCommand>{};
        if (auto w = read({"WATCH", SurveyKey(*cur)}); !w.ok()) return w.status();
        auto s = ReadSurvey(read, *cur);
        if (!s.ok()) return s.status();
        // A finished survey stays as it was. The pointer stays too, so GetSurvey shows the
        // CANCELLED one until the ticket's next reply plans a new survey over it.
        std::vector<RedisCommand> cmds;
        if (*s && !IsFinal((*s)->record.state)) {
          StoredSurvey c = **s;
          if (auto st = scheduler_->Cancel(&c.record); !st.ok()) return st;
          for (auto& cmd : StateCommands(c, absl::InfiniteFuture())) cmds.push_back(cmd);
          cancelled = true;
        }
        return cmds;
      },
      {TicketKey(ticket_id)});
  if (!applied.ok()) return applied.status();
  if (*applied == IdempotentApplier::Outcome::kApplied && cancelled) {
    metrics_->Outcome("cancelled");
    LogInfo("survey cancelled", {{"ticket_id", ticket_id}, {"event", PayloadName(e)}});
  }
  return absl::OkStatus();
}

absl::StatusOr<StoredSurvey> SurveyEngine::Get(const std::string& ticket_id) {
  if (ticket_id.empty()) return absl::InvalidArgumentError("ticket_id: is required");
  const RedisClient::Reader plain = [this](const RedisCommand& c) { return redis_->Command(c); };
  auto cur = ReadCurrent(plain, ticket_id);
  if (!cur.ok()) return cur.status();
  if (cur->empty()) return absl::NotFoundError(absl::StrCat("no survey for ticket ", ticket_id));
  auto s = ReadSurvey(plain, *cur);
  if (!s.ok()) return s.status();
  if (!*s) return absl::NotFoundError(absl::StrCat("no survey for ticket ", ticket_id));
  return **s;
}

absl::StatusOr<StoredSurvey> SurveyEngine::RecordAnswer(const v1::RecordAnswerRequest& req,
                                                        const std::string& traceparent) {
  if (req.ticket_id().empty()) return absl::InvalidArgumentError("ticket_id: is required");
  Resolved resolved = req.resolved() ? Resolved::kYes : Resolved::kNo;
  if (!req.resolution().empty()) {
    auto r = ParseResolved(req.resolution());
    if (!r.ok())
      return absl::InvalidArgumentError(absl::StrCat("resolution: ", r.status().message()));
    resolved = *r;
  }
  auto answer = MakeAnswer(resolved, req.satisfaction(), req.comment());
  if (!answer.ok()) return answer.status();
  StoredSurvey out;
  auto tx = redis_->WatchTransaction(
      {TicketKey(req.ticket_id())},
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        auto cur = ReadCurrent(read, req.ticket_id());
        if (!cur.ok()) return cur.status();
        if (cur->empty())
          return absl::NotFoundError(absl::StrCat("no survey for ticket ", req.ticket_id()));
        if (auto w = read({"WATCH", SurveyKey(*cur)}); !w.ok()) return w.status();
        auto s = ReadSurvey(read, *cur);
        if (!s.ok()) return s.status();
        if (!*s) return absl::NotFoundError(absl::StrCat("no survey for ticket ", req.ticket_id()));
        out = **s;
        if (IsFinal(out.record.state)) {
          return absl::FailedPreconditionError(absl::StrCat("survey ", out.id, " is ",
                                                            SurveyStateName(out.record.state),
                                                            ": it takes one answer"));
        }
        if (auto st = scheduler_->Answered(&out.record); !st.ok()) return st;
        out.satisfaction = answer->satisfaction;
        out.resolution = ResolvedName(answer->resolved);
        out.comment = answer->comment;
        out.answered_at = absl::Now();
        const SurveyPolicy* p = policies_->Find(out.record.type);
        const bool negative = IsNegative(*answer, p ? p->negative_at_or_below : 2);
        v1::EventEnvelope ev = NewEnvelope("survey", out.record.ticket_id, 0, traceparent);
        auto* a = ev.mutable_survey_answered();
        a->set_ticket_id(out.record.ticket_id);
        a->set_department_id(out.record.department_id);
        a->set_satisfaction(answer->satisfaction);
        // "Partly" is not a failure by itself (the grade decides): dispatch reopens on
        // reopen_requested, which carries the survey policy's verdict.
        a->set_resolved(answer->resolved != Resolved::kNo);
        a->set_reopen_requested(negative || req.reopen_requested());
        auto append = outbox_->AppendCommand({ev});
        if (!append.ok()) return append.status();
        std::vector<RedisCommand> cmds = StateCommands(out, absl::InfiniteFuture());
        cmds.push_back(*append);
        return cmds;
      });
  if (!tx.ok()) return tx.status();
  outbox_->NotifyCommitted();
  metrics_->Outcome("answered");
  LogInfo("survey answered", {{"ticket_id", out.record.ticket_id},
                              {"survey_id", out.id},
                              {"resolution", out.resolution},
                              {"satisfaction", std::to_string(out.satisfaction)}});
  return out;
}

absl::StatusOr<std::vector<StoredSurvey>> SurveyEngine::ListOpen(size_t offset, size_t limit) {
  auto ids = redis_->Command(
      {"ZRANGE", kOpenKey, std::to_string(offset), std::to_string(offset + limit - 1)});
  if (!ids.ok()) return ids.status();
  const RedisClient::Reader plain = [this](const RedisCommand& c) { return redis_->Command(c); };
  std::vector<StoredSurvey> out;
  for (const auto& id : ids->elements) {
    auto s = ReadSurvey(plain, id.str);
    if (!s.ok()) return s.status();
    if (*s) out.push_back(**s);
  }
  return out;
}

absl::StatusOr<std::vector<RedisCommand>> SurveyEngine::FailedAttemptCommands(
    StoredSurvey* st, absl::Time now, const std::string& reason, bool* unreachable) {
  if (auto f = scheduler_->AttemptFailed(&st->record, now); !f.ok()) return f;
  *unreachable = st->record.state == SurveyState::kUnreachable;
  auto cmds = StateCommands(*st, st->record.next_contact);
  if (*unreachable) {
    v1::EventEnvelope ev = NewEnvelope("survey", st->record.ticket_id, 0);
    auto* f = ev.mutable_survey_failed();
    f->set_ticket_id(st->record.ticket_id);
    f->set_attempts(st->record.attempts_made);
    f->set_reason(reason);
    auto append = outbox_->AppendCommand({ev});
    if (!append.ok()) return append.status();
    cmds.push_back(*std::move(append));
  }
  return cmds;
}

void SurveyEngine::Unreachable(const std::string& survey_id, const std::string& reason) {
  outbox_->NotifyCommitted();
  metrics_->Outcome("unreachable");
  LogInfo("survey unreachable", {{"survey_id", survey_id}, {"reason", reason}});
}

absl::StatusOr<std::optional<SurveyEngine::Claim>> SurveyEngine::ClaimDue(const std::string& id,
                                                                          absl::Time now) {
  std::optional<Claim> claim;
  bool unreachable = false;
  auto tx = redis_->WatchTransaction(
      {SurveyKey(id)},
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        claim.reset();
        unreachable = false;
        auto s = ReadSurvey(read, id);
        if (!s.ok()) return s.status();
        if (!*s) return std::vector<RedisCommand>{{"ZREM", kDueKey, id}};
        StoredSurvey c = **s;
        SurveyRecord& r = c.record;
        if (IsFinal(r.state)) return StateCommands(c, absl::InfiniteFuture());
        if (r.state == SurveyState::kScheduled) {
          if (r.next_contact > now) return StateCommands(c, r.next_contact);
          auto channel = scheduler_->StartAttempt(&r, now);
          if (!channel.ok()) return channel.status();
          c.sent = false;
          claim = Claim{id, r.ticket_id, r.attempts_made, *channel};
          return StateCommands(c, now + opts_.claim_timeout);
        }
        // CONTACTING and due again.
        if (!c.sent) {
          // The sender died or the lookup failed: the same attempt again, same idempotency key.
          claim = Claim{id, r.ticket_id, r.attempts_made,
                        r.channels[(r.attempts_made - 1) % r.channels.size()]};
          return StateCommands(c, now + opts_.claim_timeout);
        }
        // Delivered, and no answer within the wait: that attempt failed.
        return FailedAttemptCommands(&c, now, "no answer", &unreachable);
      });
  if (!tx.ok()) return tx.status();
  if (unreachable) Unreachable(id, "no answer");
  return claim;
}

absl::Status SurveyEngine::FailAttempt(const Claim& c, absl::Time now, const std::string& reason) {
  bool unreachable = false;
  auto tx = redis_->WatchTransaction(
      {SurveyKey(c.id)},
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        unreachable = false;
        auto s = ReadSurvey(read, c.id);
        if (!s.ok()) return s.status();
        // Answered, cancelled or moved on meanwhile: this attempt's result no longer matters.
        if (!*s || (*s)->record.state != SurveyState::kContacting ||
            (*s)->record.attempts_made != c.attempt)
          return std::vector<RedisCommand>{};
        StoredSurvey st = **s;
        st.sent = false;
        return FailedAttemptCommands(&st, now, reason, &unreachable);
      });
  if (!tx.ok()) return tx.status();
  if (unreachable) Unreachable(c.id, reason);
  return absl::OkStatus();
}

absl::Status SurveyEngine::EndSurvey(const Claim& c, SurveyAction action) {
  bool ended = false;
  SurveyState final_state = SurveyState::kCancelled;
  auto tx = redis_->WatchTransaction(
      {SurveyKey(c.id)},
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        ended = false;
        auto s = ReadSurvey(read, c.id);
        if (!s.ok()) return s.status();
        if (!*s || (*s)->record.state != SurveyState::kContacting ||
            (*s)->record.attempts_made != c.attempt)
          return std::vector<RedisCommand>{};
        StoredSurvey st = **s;
        absl::Status moved = action == SurveyAction::kOptOut ? scheduler_->OptOut(&st.record)
                                                             : scheduler_->Cancel(&st.record);
        if (!moved.ok()) return moved;
        ended = true;
        final_state = st.record.state;
        return StateCommands(st, absl::InfiniteFuture());
      });
  if (!tx.ok()) return tx.status();
  if (ended) metrics_->Outcome(OutcomeLabel(final_state));
  return absl::OkStatus();
}

absl::Status SurveyEngine::MarkSent(const Claim& c, absl::Time now) {
  auto tx = redis_->WatchTransaction(
      {SurveyKey(c.id)},
      [&](const RedisClient::Reader& read) -> absl::StatusOr<std::vector<RedisCommand>> {
        auto s = ReadSurvey(read, c.id);
        if (!s.ok()) return s.status();
        if (!*s || (*s)->record.state != SurveyState::kContacting ||
            (*s)->record.attempts_made != c.attempt)
          return std::vector<RedisCommand>{};
        StoredSurvey st = **s;
        st.sent = true;
        return StateCommands(st, now + opts_.answer_wait);
      });
  return tx.status();
}

void SurveyEngine::Deliver(const Claim& c, absl::Time now) {
  const std::string channel = ChannelName(c.channel);
  auto contact = lookup_(c.ticket_id);
  if (absl::IsNotFound(contact.status())) {
    if (auto s = EndSurvey(c, SurveyAction::kCancel); !s.ok())
      LogWarn("survey: cannot cancel", {{"survey_id", c.id}, {"error", s.ToString()}});
    return;
  }
  if (!contact.ok()) {
    // Intake away: the claim expires and the same attempt is tried again; not counted against
    // the citizen.
    LogWarn("survey: contact lookup failed, will retry",
            {{"survey_id", c.id}, {"error", contact.status().ToString()}});
    auto s = redis_->Command(
        {"ZADD", kDueKey, "XX", std::to_string(ToMs(now + opts_.lookup_retry)), c.id});
    if (!s.ok()) LogWarn("survey: cannot reschedule", {{"survey_id", c.id}});
    return;
  }
  if (contact->opted_out() || contact->anonymous()) {
    if (auto s = EndSurvey(c, SurveyAction::kOptOut); !s.ok())
      LogWarn("survey: cannot record opt-out", {{"survey_id", c.id}, {"error", s.ToString()}});
    return;
  }
  const std::string to = AddressFor(*contact, c.channel);
  const std::string masked = MaskedFor(*contact, c.channel);
  absl::Status result;
  std::string label;
  if (to.empty()) {
    label = "no_address";
    result = absl::FailedPreconditionError("no address for the channel");
  } else {
    nlohmann::json body = {
        {"survey_id", c.id},
        {"ticket_id", c.ticket_id},
        {"attempt", c.attempt},
        {"channel", channel},
        {"to", to},
        {"language",
         contact->preferred_language().empty() ? "zh-CN" : contact->preferred_language()},
        {"questions", {"resolved", "satisfaction", "comment"}},
    };
    auto r = gateway_->Post(opts_.gateway_url, body.dump(), absl::StrCat(c.id, ":", c.attempt));
    result = r.status();
    label = r.ok() ? "delivered" : absl::IsInvalidArgument(r.status()) ? "refused" : "failed";
  }
  metrics_->Attempt(channel, label);
  LogInfo("survey attempt", {{"ticket_id", c.ticket_id},
                             {"survey_id", c.id},
                             {"attempt", std::to_string(c.attempt)},
                             {"channel", channel},
                             {"to", masked},
                             {"result", label}});
  absl::Status s = result.ok() ? MarkSent(c, absl::Now())
                               : FailAttempt(c, absl::Now(), absl::StrCat(channel, " ", label));
  if (!s.ok()) LogWarn("survey: cannot record the attempt", {{"survey_id", c.id}});
}

absl::StatusOr<int> SurveyEngine::RunOnce(absl::Time now) {
  auto due = redis_->Command({"ZRANGEBYSCORE", kDueKey, "-inf", std::to_string(ToMs(now)), "LIMIT",
                              "0", std::to_string(kBatch)});
  if (!due.ok()) return due.status();
  int n = 0;
  for (const auto& e : due->elements) {
    if (stop_.load()) break;
    auto claim = ClaimDue(e.str, now);
    if (!claim.ok()) {
      LogWarn("survey: cannot claim", {{"survey_id", e.str}, {"error", claim.status().ToString()}});
      continue;
    }
    ++n;
    if (*claim) Deliver(**claim, now);
  }
  return n;
}

void SurveyEngine::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void SurveyEngine::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void SurveyEngine::Loop() {
  absl::Time last_backlog = absl::InfinitePast();
  while (!stop_.load()) {
    const absl::Time now = absl::Now();
    auto n = RunOnce(now);
    if (!n.ok()) LogWarn("survey scheduler pass failed", {{"error", n.status().ToString()}});
    if (now - last_backlog >= absl::Seconds(1)) {
      if (auto b = redis_->Command({"ZCARD", kOpenKey}); b.ok())
        metrics_->SetBacklog(static_cast<double>(b->integer));
      last_backlog = now;
    }
    if (n.ok() && *n >= kBatch) continue;  // more due: no nap
    // Short naps so Stop() is prompt.
    for (absl::Duration slept; slept < opts_.tick && !stop_.load(); slept += absl::Milliseconds(10))
      absl::SleepFor(absl::Milliseconds(10));
  }
}

}  // namespace hotline::survey

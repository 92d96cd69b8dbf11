#include "services/intake/intake_core.h"

#include <google/protobuf/util/time_util.h>
#include <openssl/crypto.h>

#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/rpc.h"
#include "services/common/text.h"
#include "services/common/time_proto.h"
#include "services/intake/identity.h"
#include "services/intake/request_kind.h"
#include "services/intake/validation.h"

namespace hotline::intake {
namespace {

constexpr size_t kDuplicateCandidates = 50;
constexpr size_t kMaxTicketRefBytes = 64;  // ticket ids are UUIDs, numbers ~20 bytes
constexpr int kMaxPageSize = 100;

// Still being handled: a new report of the same problem is merged into it. A ticket dispatch
// closed is not (the problem came back: a new ticket).
bool Open(const TicketRecord& r) {
  return r.ticket.state() == v1::TICKET_STATE_CREATED &&
         r.progress.state() != v1::TICKET_STATE_CLOSED;
}

}  // namespace

v1::Ticket IntakeCore::View(const TicketRecord& rec) {
  const std::string& original_id = rec.ticket.merged_into_ticket_id();
  if (rec.ticket.state() != v1::TICKET_STATE_MERGED || original_id.empty()) {
    return timeline_.View(rec.ticket, rec.progress);
  }
  auto original = store_->Get(original_id);
  if (!original.ok() || !original->has_value()) {
    // The report itself is still worth showing; only the original's steps are missing.
    LogWarn("merged ticket's original not readable",
            {{"ticket_id", rec.ticket.ticket_id()},
             {"original", original_id},
             {"error", original.ok() ? "missing" : std::string(original.status().message())}});
    return timeline_.View(rec.ticket, rec.progress);
  }
  return timeline_.View(rec.ticket, (*original)->progress);
}

absl::StatusOr<v1::SubmitRequestResponse> IntakeCore::Replay(const std::string& ticket_id) {
  auto rec = store_->Get(ticket_id);
  if (!rec.ok()) return rec.status();
  if (!rec->has_value()) return absl::InternalError("idempotency key points at a missing ticket");
  v1::SubmitRequestResponse resp;
  *resp.mutable_ticket() = View(**rec);
  resp.set_verification_code((*rec)->verification_code);
  resp.set_replayed(true);
  switch ((*rec)->ticket.state()) {
    case v1::TICKET_STATE_MERGED:
      resp.set_outcome(v1::SUBMIT_OUTCOME_MERGED);
      break;
    case v1::TICKET_STATE_DIRECT_ANSWERED: {
      resp.set_outcome(v1::SUBMIT_OUTCOME_DIRECT_ANSWERED);
      for (const auto& m : kb_->Search((*rec)->ticket.text(), 5)) {
        if (m.entry->code() == (*rec)->ticket.knowledge_code()) resp.set_answer(m.entry->answer());
      }
      break;
    }
    default:
      resp.set_outcome(v1::SUBMIT_OUTCOME_CREATED);
  }
  return resp;
}

absl::StatusOr<SubmitResult> IntakeCore::Submit(const v1::SubmitRequestRequest& req,
                                                const std::string& traceparent, int attempt) {
  if (auto s = ValidateSubmission(req); !s.ok()) return s;
  auto seen = store_->FindByIdempotencyKey(req.idempotency_key());
  if (!seen.ok()) return seen.status();
  if (seen->has_value()) {
    auto resp = Replay(**seen);
    if (!resp.ok()) return resp.status();
    return SubmitResult{*std::move(resp), ""};
  }

  const absl::Time now = now_();
  TicketRecord rec;
  v1::Ticket& t = rec.ticket;
  t.set_ticket_id(NewUuid());
  t.set_channel(req.channel());
  t.set_text(req.text());
  *t.mutable_location() = req.location();
  t.set_call_id(req.call_id());
  *t.mutable_created_at() = ToTimestamp(now);
  rec.normalized_text = NormalizeText(req.text());
  t.set_type(DetectType(rec.normalized_text, req.type_hint()));
  std::string urgent = UrgentCue(rec.normalized_text);
  t.set_urgency(urgent.empty() ? v1::URGENCY_NORMAL : v1::URGENCY_URGENT);

  const auto& c = req.contact();
  if (!c.phone().empty()) rec.phone = *NormalizePhone("contact.phone", c.phone());
  rec.name = c.name();
  rec.email = c.email();
  rec.wechat_openid = c.wechat_openid();
  std::string identity = !rec.phone.empty()           ? rec.phone
                         : !rec.email.empty()         ? "mailto:" + rec.email
                         : !rec.wechat_openid.empty() ? "wechat:" + rec.wechat_openid
                                                      : "";
  auto* masked = t.mutable_contact();
  if (!identity.empty()) masked->set_citizen_id(CitizenId(opts_.pseudonym_key, identity));
  masked->set_masked_phone(MaskPhone(rec.phone));
  masked->set_masked_name(MaskName(rec.name));
  rec.place_key = PlaceKey(req.location().district(), req.location().address());
  rec.verification_code = NewVerificationCode();

  SubmitResult result;
  v1::SubmitRequestResponse& resp = result.response;
  // 1. A consultation the knowledge base answers is closed on the spot (never an urgent one).
  std::optional<KnowledgeBase::Match> answer;
  if (t.type() == v1::TICKET_TYPE_CONSULTATION && t.urgency() != v1::URGENCY_URGENT) {
    answer = kb_->Answer(req.text(), opts_.direct_answer_coverage);
  }
  // 2. Otherwise, the same problem reported again (same citizen or same place, any channel).
  const TicketRecord* original = nullptr;
  std::vector<TicketRecord> recent;
  TicketStore::IndexSnapshot snapshot;
  if (!answer) {
    auto r = store_->Recent(masked->citizen_id(), rec.place_key, now - opts_.duplicate_window,
                            kDuplicateCandidates, &snapshot);
    if (!r.ok()) return r.status();
    recent = std::move(*r);
    double best = 0;
    for (const auto& cand : recent) {
      if (!Open(cand)) continue;
      double sim = BigramJaccard(rec.normalized_text, cand.normalized_text);
      if (sim >= opts_.duplicate_similarity && sim > best) {
        best = sim;
        original = &cand;
      }
    }
    if (original) {
      bool same_citizen = !masked->citizen_id().empty() &&
                          original->ticket.contact().citizen_id() == masked->citizen_id();
      result.merge_reason = absl::StrCat(
          same_citizen ? "same citizen" : "same place", ", near-identical text (similarity ",
          static_cast<int>(best * 100), "%) within ", absl::FormatDuration(opts_.duplicate_window));
    }
  }

  auto seq = store_->NextSequence(LocalDate(now, opts_.zone));
  if (!seq.ok()) return seq.status();
  t.set_ticket_number(FormatTicketNumber(opts_.city_code, now, opts_.zone, *seq));
  rec.version = 1;

  v1::EventEnvelope ev = NewEnvelope("intake", t.ticket_id(), rec.version, traceparent);
  if (answer) {
    t.set_state(v1::TICKET_STATE_DIRECT_ANSWERED);
    t.set_knowledge_code(answer->entry->code());
    resp.set_outcome(v1::SUBMIT_OUTCOME_DIRECT_ANSWERED);
    resp.set_answer(answer->entry->answer());
    auto* p = ev.mutable_ticket_direct_answered();
    p->set_ticket_id(t.ticket_id());
    p->set_ticket_number(t.ticket_number());
    p->set_knowledge_code(answer->entry->code());
    p->set_score(answer->coverage);
    p->set_channel(t.channel());
    p->set_type(t.type());
    p->set_district(t.location().district());
  } else if (original) {
    t.set_state(v1::TICKET_STATE_MERGED);
    t.set_merged_into_ticket_id(original->ticket.ticket_id());
    resp.set_outcome(v1::SUBMIT_OUTCOME_MERGED);
    auto* p = ev.mutable_ticket_merged();
    p->set_ticket_id(t.ticket_id());
    p->set_ticket_number(t.ticket_number());
    p->set_original_ticket_id(original->ticket.ticket_id());
    p->set_original_ticket_number(original->ticket.ticket_number());
    p->set_reason(result.merge_reason);
    p->set_channel(t.channel());
    p->set_type(t.type());
    p->set_district(t.location().district());
  } else {
    t.set_state(v1::TICKET_STATE_CREATED);
    resp.set_outcome(v1::SUBMIT_OUTCOME_CREATED);
    auto* p = ev.mutable_ticket_created();
    p->set_ticket_id(t.ticket_id());
    p->set_ticket_number(t.ticket_number());
    p->set_channel(t.channel());
    p->set_type(t.type());
    p->set_urgency(t.urgency());
    p->set_text(RedactPersonalData(t.text()));
    *p->mutable_location() = t.location();
    *p->mutable_contact() = *masked;
    p->set_call_id(t.call_id());
  }

  auto stored = store_->Create(rec, req.idempotency_key(), {ev}, snapshot);
  // Each conflict means another report at this citizen or place committed, so progress is
  // guaranteed; the bound only stops a pathological storm.
  if (absl::IsAborted(stored.status()) && attempt < 32)
    return Submit(req, traceparent, attempt + 1);
  if (!stored.ok()) return stored.status();
  if (*stored != t.ticket_id()) {  // a concurrent retry with the same key won the race
    auto replay = Replay(*stored);
    if (!replay.ok()) return replay.status();
    return SubmitResult{*std::move(replay), ""};
  }
  *resp.mutable_ticket() = View(rec);
  resp.set_verification_code(rec.verification_code);
  return result;
}

absl::StatusOr<v1::Ticket> IntakeCore::Get(const std::string& id_or_number) {
  if (id_or_number.empty()) return absl::InvalidArgumentError("ticket_id: is required");
  auto rec = store_->Get(id_or_number);
  if (!rec.ok()) return rec.status();
  if (!rec->has_value()) return absl::NotFoundError(absl::StrCat("no ticket ", id_or_number));
  return View(**rec);
}

absl::StatusOr<TicketRecord> IntakeCore::GetContactRecord(const std::string& id_or_number) {
  if (id_or_number.empty()) return absl::InvalidArgumentError("ticket_id: is required");
  auto rec = store_->Get(id_or_number);
  if (!rec.ok()) return rec.status();
  if (!rec->has_value()) return absl::NotFoundError(absl::StrCat("no ticket ", id_or_number));
  return **std::move(rec);
}

absl::StatusOr<TicketRecord> IntakeCore::LoadForCitizen(const std::string& id,
                                                        const std::string& code,
                                                        const std::string& caller) {
  if (id.empty()) return absl::InvalidArgumentError("ticket_id: is required");
  if (id.size() > kMaxTicketRefBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("ticket_id: longer than ", kMaxTicketRefBytes, " bytes"));
  }
  if (code.empty()) return absl::InvalidArgumentError("verification_code: is required");
  auto rec = store_->Get(id);
  if (!rec.ok()) return rec.status();
  // One budget per ticket however it is named (number or id); guesses at a number that does not
  // exist are counted and locked the same way, so the answers do not tell which numbers exist.
  std::string key = rec->has_value() ? (*rec)->ticket.ticket_id() : "unknown:" + id;
  if (auto s = throttle_->Begin(key, id, caller); !s.ok()) return s;
  const std::string* want = rec->has_value() ? &(*rec)->verification_code : nullptr;
  if (want == nullptr || want->size() != code.size() ||
      CRYPTO_memcmp(want->data(), code.data(), code.size()) != 0) {
    return absl::NotFoundError("no ticket with that number and verification code");
  }
  if (auto s = throttle_->Succeeded(key, caller); !s.ok()) {
    // The citizen proved the code; a count left one too high only shortens their budget.
    LogWarn("verification attempt not taken back", {{"error", std::string(s.message())}});
  }
  return **rec;
}

absl::StatusOr<v1::Ticket> IntakeCore::Track(const std::string& number, const std::string& code,
                                             const std::string& caller) {
  auto rec = LoadForCitizen(number, code, caller);
  if (!rec.ok()) return rec.status();
  return View(*rec);
}

absl::StatusOr<v1::ListCitizenTicketsResponse> IntakeCore::ListByPhone(
    const std::string& phone, const v1::PageRequest& page) {
  auto canonical = NormalizePhone("phone", phone);
  if (!canonical.ok()) return canonical.status();
  auto p = ReadPage(page, 20, kMaxPageSize);
  if (!p.ok()) return p.status();
  const size_t size = p->size;
  auto recs =
      store_->ListByCitizen(CitizenId(opts_.pseudonym_key, *canonical), p->offset, size + 1);
  if (!recs.ok()) return recs.status();
  v1::ListCitizenTicketsResponse out;
  for (size_t i = 0; i < recs->size() && i < size; ++i) *out.add_tickets() = View((*recs)[i]);
  if (recs->size() > size) out.mutable_page()->set_next_page_token(NextPageToken(*p));
  return out;
}

absl::StatusOr<v1::Ticket> IntakeCore::Supplement(const v1::AddSupplementRequest& req,
                                                  const std::string& traceparent,
                                                  const std::string& caller) {
  if (auto s = CheckText("text", req.text(), kMaxSupplementChars, true); !s.ok()) return s;
  if (req.idempotency_key().empty())
    return absl::InvalidArgumentError("idempotency_key: is required");
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto rec = LoadForCitizen(req.ticket_id(), req.verification_code(), caller);
    if (!rec.ok()) return rec.status();
    for (const auto& k : rec->supplement_keys) {
      if (k == req.idempotency_key()) return View(*rec);  // a retry: already added
    }
    // Checked on what the citizen sees: a ticket dispatch closed takes no more information.
    // (Forwarding a supplement to the responsible department is dispatch's part: it consumes
    // TicketSupplemented.)
    if (auto s = TimelineRules::MaySupplement(View(*rec)); !s.ok()) return s;
    int64_t expected = rec->version;
    auto* s = rec->ticket.add_supplements();
    s->set_text(req.text());
    *s->mutable_added_at() = ToTimestamp(now_());
    rec->supplement_keys.push_back(req.idempotency_key());
    rec->version++;
    auto ev = NewEnvelope("intake", rec->ticket.ticket_id(), rec->version, traceparent);
    ev.mutable_ticket_supplemented()->set_ticket_id(rec->ticket.ticket_id());
    ev.mutable_ticket_supplemented()->set_text(RedactPersonalData(req.text()));
    auto st = store_->Update(*rec, expected, {ev});
    if (st.ok()) return View(*rec);
    if (!absl::IsAborted(st)) return st;
  }
  return absl::AbortedError("ticket kept changing; retry");
}

absl::StatusOr<v1::Ticket> IntakeCore::Withdraw(const v1::WithdrawTicketRequest& req,
                                                const std::string& traceparent,
                                                const std::string& caller) {
  if (auto s = CheckText("reason", req.reason(), 500, false); !s.ok()) return s;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto rec = LoadForCitizen(req.ticket_id(), req.verification_code(), caller);
    if (!rec.ok()) return rec.status();
    auto state = rec->ticket.state();
    if (state == v1::TICKET_STATE_WITHDRAWN) return View(*rec);  // a retry
    if (state != v1::TICKET_STATE_CREATED && state != v1::TICKET_STATE_MERGED) {
      return absl::FailedPreconditionError(
          absl::StrCat("ticket is ", v1::TicketState_Name(state), " and cannot be withdrawn"));
    }
    // Once the department replied (or dispatch closed it) there is nothing left to withdraw;
    // Update refuses if a reply arrives between this check and the write.
    if (auto s = TimelineRules::MayWithdraw(View(*rec)); !s.ok()) return s;
    int64_t expected = rec->version;
    rec->ticket.set_state(v1::TICKET_STATE_WITHDRAWN);
    // intake's own step: the only timeline entry kept in the record itself.
    auto* step = rec->ticket.add_timeline();
    step->set_kind(v1::TIMELINE_KIND_WITHDRAWN);
    *step->mutable_at() = ToTimestamp(now_());
    rec->version++;
    auto ev = NewEnvelope("intake", rec->ticket.ticket_id(), rec->version, traceparent);
    ev.mutable_ticket_withdrawn()->set_ticket_id(rec->ticket.ticket_id());
    ev.mutable_ticket_withdrawn()->set_reason(RedactPersonalData(req.reason()));
    auto st = store_->Update(*rec, expected, {ev});
    if (st.ok()) return View(*rec);
    if (!absl::IsAborted(st)) return st;
  }
  return absl::AbortedError("ticket kept changing; retry");
}

absl::StatusOr<std::vector<v1::Ticket>> IntakeCore::ListCreated(absl::Time from, absl::Time to,
                                                                size_t limit) {
  auto recs = store_->ListCreated(from, to, limit);
  if (!recs.ok()) return recs.status();
  std::vector<v1::Ticket> out;
  for (const auto& r : *recs) out.push_back(View(r));
  return out;
}

absl::Status IntakeCore::HandleEvent(const v1::EventEnvelope& e) {
  if (!TimelineRules::Projects(e)) return absl::OkStatus();
  const std::string id = TimelineRules::TicketId(e);
  if (id.empty()) return absl::InvalidArgumentError("event names no ticket");
  auto r = store_->ApplyProgress(
      e, id, [&e](v1::Ticket* progress) { return TimelineRules::Apply(e, progress); });
  if (!r.ok()) return r.status();
  if (*r == TicketStore::ProgressOutcome::kUnknownTicket) {
    // Another city's ticket on a shared topic, or one whose record is gone: nothing to show.
    LogDebug("event for a ticket intake does not know",
             {{"ticket_id", id}, {"event_id", e.event_id()}});
  }
  return absl::OkStatus();
}

std::vector<KnowledgeBase::Match> IntakeCore::SearchKnowledge(const std::string& query,
                                                              size_t limit) const {
  return kb_->Search(query, limit);
}

}  // namespace hotline::intake

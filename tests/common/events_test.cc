#include "services/common/events.h"

#include <catch2/catch.hpp>
#include <regex>
#include <set>

#include "services/common/log.h"

using namespace hotline;

TEST_CASE("each payload goes to its aggregate's topic") {
  v1::EventEnvelope e;
  CHECK(TopicFor(e).empty());
  e.mutable_ticket_created();
  CHECK(TopicFor(e) == kTicketsTopic);
  e.mutable_ticket_dispatched();
  CHECK(TopicFor(e) == kTicketsTopic);
  e.mutable_call_started();
  CHECK(TopicFor(e) == kCallsTopic);
  e.mutable_sla_breached();
  CHECK(TopicFor(e) == kSlaTopic);
  e.mutable_survey_answered();
  CHECK(TopicFor(e) == kSurveysTopic);
}

TEST_CASE("every payload field of the envelope maps to a known topic") {
  const auto* d = v1::EventEnvelope::descriptor();
  const auto* oneof = d->FindOneofByName("payload");
  REQUIRE(oneof != nullptr);
  for (int i = 0; i < oneof->field_count(); ++i) {
    v1::EventEnvelope e;
    const auto* f = oneof->field(i);
    e.GetReflection()->MutableMessage(&e, f);
    INFO(f->name());
    CHECK(PayloadName(e) == f->name());
    std::string t = TopicFor(e);
    CHECK((t == kTicketsTopic || t == kCallsTopic || t == kSlaTopic || t == kSurveysTopic));
  }
}

TEST_CASE("new envelopes carry a fresh v4 UUID, source, key and time") {
  std::set<std::string> ids;
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (int i = 0; i < 1000; ++i) {
    auto e = NewEnvelope("intake", "T-1", 1);
    REQUIRE(std::regex_match(e.event_id(), uuid));
    ids.insert(e.event_id());
  }
  CHECK(ids.size() == 1000);
  const std::string tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto e = NewEnvelope("dispatch", "GZ-20261124-000001", 7, tp);
  CHECK(e.source() == "dispatch");
  CHECK(e.key() == "GZ-20261124-000001");
  CHECK(e.aggregate_version() == 7);
  CHECK(e.traceparent() == tp);
  // A malformed trace is dropped, not copied; without one, the thread's current trace is used.
  CHECK(NewEnvelope("dispatch", "k", 1, "00-abc-def-01").traceparent().empty());
  {
    ScopedTrace trace(tp);
    CHECK(NewEnvelope("sla_timer", "k", 1).traceparent() == tp);
  }
  CHECK(NewEnvelope("sla_timer", "k", 1).traceparent().empty());
  CHECK(e.occurred_at().seconds() > 1700000000);
}

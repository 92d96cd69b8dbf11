#include "services/sla_timer/clock.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

#include "services/sla_timer/timing_wheel.h"

using namespace hotline;
using namespace hotline::sla;

TEST_CASE("the timing wheel fires every entry once, at or after its time, never early") {
  std::mt19937_64 rng(7);
  const int64_t start = 1'000'000;
  TimingWheel wheel(start, 10);
  std::map<uint64_t, int64_t> expected;  // payload → expiry
  std::vector<TimingWheel::Handle> handles;
  std::set<uint64_t> cancelled;
  for (uint64_t i = 0; i < 20000; ++i) {
    // Spread over every level: from 1 ms to ~12 days ahead.
    int64_t ahead = static_cast<int64_t>(rng() % 6) == 0
                        ? static_cast<int64_t>(rng() % 1'000'000'000)
                        : static_cast<int64_t>(rng() % 600'000);
    expected[i] = start + ahead;
    handles.push_back(wheel.Add(start + ahead, static_cast<uint32_t>(i)));
  }
  for (uint64_t i = 0; i < 20000; i += 7) {
    REQUIRE(wheel.Cancel(handles[i]));
    cancelled.insert(i);
  }
  CHECK_FALSE(wheel.Cancel(handles[0]));
  std::map<uint64_t, int64_t> fired;
  int64_t now = start;
  bool early = false;
  while (wheel.size() > 0 && now < start + 1'100'000'000) {
    now += 1 + static_cast<int64_t>(rng() % 50'000);
    wheel.Advance(now, [&](uint32_t p, int64_t expiry) {
      early |= expiry > now;
      CHECK(fired.count(p) == 0);
      fired[p] = now;
      CHECK(now - expiry < 50'000 + 10);  // fired in the first Advance past its time
    });
  }
  CHECK_FALSE(early);
  CHECK(fired.size() == expected.size() - cancelled.size());
  for (uint64_t c : cancelled) CHECK(fired.count(c) == 0);
}

TEST_CASE("entries added while firing, and entries already due, fire on the next advance") {
  TimingWheel wheel(0, 10);
  std::vector<uint32_t> order;
  wheel.Add(50, 1);
  wheel.Add(-5, 2);  // already due
  wheel.Advance(0, [&](uint32_t p, int64_t) { order.push_back(p); });
  CHECK(order == std::vector<uint32_t>{2});
  wheel.Advance(60, [&](uint32_t p, int64_t) {
    order.push_back(p);
    if (p == 1) wheel.Add(65, 3);
  });
  wheel.Advance(70, [&](uint32_t p, int64_t) { order.push_back(p); });
  CHECK(order == std::vector<uint32_t>{2, 1, 3});
}

TEST_CASE("a clock's warnings, pause, resume and extension on a working calendar") {
  const absl::TimeZone tz = absl::FixedTimeZone(8 * 3600);
  WorkCalendar cal("c", tz, {{9 * 60, 17 * 60}}, {absl::Weekday::saturday, absl::Weekday::sunday},
                   {}, {});
  ClockMath math(cal);
  auto at = [&](int d, int h) {
    return absl::FromCivil(absl::CivilSecond(2026, 11, d, h, 0, 0), tz);
  };
  ClockRecord c;
  c.ticket_id = "t";
  c.kind = v1::CLOCK_KIND_COMPLETION;
  c.started_at = c.segment_start = at(23, 9);  // Monday 09:00
  c.budget = absl::Hours(16);                  // two 8-hour days
  c.points = {50, 75, 100};
  CHECK(math.TimeAtPercent(c, 50) == at(23, 17));
  CHECK(math.NextFire(c) == at(23, 17));
  CHECK(math.Deadline(c) == at(24, 17));
  CHECK(math.PercentElapsed(c, at(24, 9)) == 50);

  // Paused Monday 13:00 (4 h used) until Wednesday 09:00: the deadline moves by the pause.
  math.Pause(c, at(23, 13));
  CHECK(c.state == v1::CLOCK_STATE_PAUSED);
  CHECK(math.NextFire(c) == absl::InfiniteFuture());
  CHECK(math.PercentElapsed(c, at(25, 9)) == 25);
  math.Resume(c, at(25, 9));
  CHECK(math.Deadline(c) == at(26, 13));

  // An approved extension to Friday 17:00: a new generation, the breach moves there.
  int64_t gen = c.generation;
  std::string breach_id = DueEventId(c, 100);
  math.ExtendTo(c, at(25, 13), at(27, 17));
  CHECK(c.generation == gen + 1);
  CHECK(math.Deadline(c) == at(27, 17));
  CHECK(DueEventId(c, 100) != breach_id);
  CHECK(DueEventId(c, 100) == DueEventId(c, 100));

  // Round trip through the Redis hash fields.
  std::map<std::string, std::string> f;
  auto fields = c.Fields();
  for (size_t i = 0; i + 1 < fields.size(); i += 2) f[fields[i]] = fields[i + 1];
  auto back = ClockRecord::FromFields(f);
  REQUIRE(back.ok());
  CHECK(math.Deadline(*back) == at(27, 17));
  CHECK(back->points == c.points);
}

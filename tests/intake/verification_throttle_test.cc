// The verification-code throttle's rules, on an in-memory store with a hand-moved clock.
#include "services/intake/verification_throttle.h"

#include <catch2/catch.hpp>
#include <map>

#include "absl/strings/match.h"

using namespace hotline::intake;

namespace {

// Counts and locks with expiry, like RedisAttemptStore's keys with TTLs.
class FakeAttemptStore : public AttemptStore {
 public:
  explicit FakeAttemptStore(absl::Time* now) : now_(now) {}
  absl::StatusOr<std::vector<absl::Duration>> LockRemaining(
      const std::vector<std::string>& keys) override {
    std::vector<absl::Duration> out;
    for (const auto& k : keys) {
      auto it = locks_.find(k);
      out.push_back(it == locks_.end() || it->second <= *now_ ? absl::ZeroDuration()
                                                              : it->second - *now_);
    }
    return out;
  }
  absl::StatusOr<std::vector<int64_t>> Count(const std::vector<std::string>& keys,
                                             absl::Duration window) override {
    std::vector<int64_t> out;
    for (const auto& k : keys) {
      auto& c = counts_[k];
      if (c.second <= *now_) c = {0, *now_ + window};
      out.push_back(++c.first);
    }
    return out;
  }
  absl::Status Uncount(const std::vector<std::string>& keys) override {
    for (const auto& k : keys) {
      if (counts_.count(k) && counts_[k].first > 0) --counts_[k].first;
    }
    return absl::OkStatus();
  }
  absl::Status Lock(const std::string& key, absl::Duration d) override {
    if (locks_[key] <= *now_) locks_[key] = *now_ + d;
    counts_.erase(key);
    return absl::OkStatus();
  }

 private:
  absl::Time* now_;
  std::map<std::string, std::pair<int64_t, absl::Time>> counts_;
  std::map<std::string, absl::Time> locks_;
};

struct Fixture {
  absl::Time now = absl::FromUnixSeconds(1'780'000'000);
  FakeAttemptStore store{&now};
  std::vector<Lockout> lockouts;
  VerificationThrottle throttle{&store, ThrottleOptions{5, 8, absl::Minutes(15), absl::Minutes(15)},
                                [this](const Lockout& l) { lockouts.push_back(l); },
                                [this] { return now; }};
  // A wrong attempt: Begin, and no Succeeded.
  absl::Status Wrong(const std::string& ticket, const std::string& caller = "app") {
    return throttle.Begin(ticket, "GZ-" + ticket, caller);
  }
  absl::Status Right(const std::string& ticket, const std::string& caller = "app") {
    auto s = throttle.Begin(ticket, "GZ-" + ticket, caller);
    if (s.ok()) s = throttle.Succeeded(ticket, caller);
    return s;
  }
};

}  // namespace

TEST_CASE("five wrong codes are allowed, the sixth attempt and the right code are then refused") {
  Fixture f;
  for (int i = 0; i < 5; ++i) REQUIRE(f.Wrong("t1").ok());
  auto sixth = f.Wrong("t1");
  CHECK(absl::IsResourceExhausted(sixth));
  CHECK(absl::StrContains(sixth.message(),
                          "verification_code: too many wrong codes for this ticket"));
  CHECK(absl::StrContains(sixth.message(), "retry after 2026-05-28T"));
  CHECK(absl::StrContains(sixth.message(), "(in 15m)"));
  REQUIRE(f.lockouts.size() == 1);
  CHECK(f.lockouts[0].scope == "ticket");
  CHECK(f.lockouts[0].ticket == "GZ-t1");
  CHECK(absl::IsResourceExhausted(f.Right("t1")));
  CHECK(f.lockouts.size() == 1);  // one lockout, logged and counted once
  // Another ticket is unaffected.
  CHECK(f.Right("t2").ok());
  // The lock ends; the count starts again.
  f.now += absl::Minutes(15) + absl::Seconds(1);
  CHECK(f.Right("t1").ok());
  for (int i = 0; i < 5; ++i) CHECK(f.Wrong("t1").ok());
}

TEST_CASE("the retry time counts down and right codes do not use up the budget") {
  Fixture f;
  for (int i = 0; i < 6; ++i) (void)f.Wrong("t1");
  f.now += absl::Minutes(10);
  auto s = f.Right("t1");
  CHECK(absl::StrContains(s.message(), "(in 5m)"));

  for (int i = 0; i < 20; ++i) REQUIRE(f.Right("t3", "web").ok());  // a citizen checking often
  for (int i = 0; i < 5; ++i) CHECK(f.Wrong("t3", "web").ok());
}

TEST_CASE("failures spread over many tickets lock the caller, not other callers") {
  Fixture f;
  // 8 per caller in this fixture: two wrong guesses at each of four tickets, then one more.
  for (int t = 0; t < 4; ++t) {
    REQUIRE(f.Wrong("s" + std::to_string(t), "sprayer").ok());
    REQUIRE(f.Wrong("s" + std::to_string(t), "sprayer").ok());
  }
  auto s = f.Wrong("s9", "sprayer");
  CHECK(absl::IsResourceExhausted(s));
  CHECK(absl::StrContains(s.message(), "from this caller"));
  REQUIRE(f.lockouts.size() == 1);
  CHECK(f.lockouts[0].scope == "caller");
  CHECK(f.lockouts[0].caller == "sprayer");
  CHECK(absl::IsResourceExhausted(f.Right("s10", "sprayer")));
  CHECK(f.Right("s10", "wechat").ok());
  // No caller (not wired, or auth off): per-ticket limits only.
  for (int i = 0; i < 5; ++i) CHECK(f.Wrong("u" + std::to_string(i), "").ok());
}

TEST_CASE("a count expires with its window") {
  Fixture f;
  for (int i = 0; i < 5; ++i) REQUIRE(f.Wrong("t1").ok());
  f.now += absl::Minutes(16);
  for (int i = 0; i < 5; ++i) CHECK(f.Wrong("t1").ok());
  CHECK(f.lockouts.empty());
}

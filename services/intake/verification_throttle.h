#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hotline::intake {

// Where attempt counts and locks live (RedisAttemptStore is the adapter: counters and locks are
// keys with TTLs in intake's Redis, shared by every instance). Keys are opaque to the store.
class AttemptStore {
 public:
  virtual ~AttemptStore() = default;
  // How much longer each key stays locked (zero when it is not), in the order of `keys`.
  virtual absl::StatusOr<std::vector<absl::Duration>> LockRemaining(
      const std::vector<std::string>& keys) = 0;
  // Adds one attempt to each key's count and returns the new counts. A count lives `window`
  // from its first attempt, then starts again from zero.
  virtual absl::StatusOr<std::vector<int64_t>> Count(const std::vector<std::string>& keys,
                                                     absl::Duration window) = 0;
  // Takes one attempt back from each key (a right code was not a guess).
  virtual absl::Status Uncount(const std::vector<std::string>& keys) = 0;
  // Locks `key` for `duration` (a lock already in place keeps its end) and resets its count.
  virtual absl::Status Lock(const std::string& key, absl::Duration duration) = 0;
};

struct ThrottleOptions {
  int max_failures_per_ticket = 5;  // INTAKE_VERIFY_MAX_FAILURES
  // A caller is an app or channel serving many citizens, so its budget is larger; it stops one
  // client spraying guesses over many tickets (5 each) from going unnoticed.
  int max_failures_per_caller = 100;           // INTAKE_VERIFY_MAX_FAILURES_PER_CALLER
  absl::Duration window = absl::Minutes(15);   // INTAKE_VERIFY_WINDOW_SECONDS
  absl::Duration lockout = absl::Minutes(15);  // INTAKE_VERIFY_LOCKOUT_SECONDS
};

// What a lockout hit, for the log line and the metric (never a phone or a name).
struct Lockout {
  std::string scope;   // "ticket" or "caller"
  std::string ticket;  // the ticket number or id the caller gave
  std::string caller;  // the principal's name ("" when unknown)
  absl::Time until;
};

// Stops verification codes from being guessed (6 digits = 10^6 codes; unthrottled, 2,400 tries
// a second). Every attempt is counted before the code is compared, so parallel guesses cannot
// slip past the limit; a right code takes its attempt back. More than `max_failures_per_ticket`
// attempts at one ticket within `window` lock that ticket's code for `lockout`; more than
// `max_failures_per_caller` by one caller lock the caller. While locked, every attempt is refused
// with RESOURCE_EXHAUSTED, the right code too (else the lock would still answer guesses).
// A lockout is logged here (ticket as given and caller, no personal data) and reported to
// `on_lockout` (the metric).
class VerificationThrottle {
 public:
  VerificationThrottle(AttemptStore* store, ThrottleOptions opts,
                       std::function<void(const Lockout&)> on_lockout,
                       std::function<absl::Time()> now = absl::Now)
      : store_(store), opts_(opts), on_lockout_(std::move(on_lockout)), now_(std::move(now)) {}

  // Call before comparing the code. `ticket_key` identifies the ticket however it was named
  // (its id when it exists); `label` is what the caller typed, for the message and the log.
  // OK: go on and compare. RESOURCE_EXHAUSTED: locked (says until when). Store errors as is.
  absl::Status Begin(const std::string& ticket_key, const std::string& label,
                     const std::string& caller);
  // The code was right: the attempt is taken back.
  absl::Status Succeeded(const std::string& ticket_key, const std::string& caller);

  const ThrottleOptions& options() const { return opts_; }

 private:
  absl::Status LockedError(const std::string& scope, absl::Duration remaining) const;

  AttemptStore* store_;
  ThrottleOptions opts_;
  std::function<void(const Lockout&)> on_lockout_;
  std::function<absl::Time()> now_;
};

}  // namespace hotline::intake

#include "services/intake/verification_throttle.h"

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace hotline::intake {
namespace {

std::vector<std::string> Keys(const std::string& ticket_key, const std::string& caller) {
  std::vector<std::string> keys = {"t:" + ticket_key};
  if (!caller.empty()) keys.push_back("c:" + caller);
  return keys;
}

}  // namespace

absl::Status VerificationThrottle::LockedError(const std::string& scope,
                                               absl::Duration remaining) const {
  // Whole seconds, rounded up, so "retry after" is never a moment too early.
  absl::Duration wait = absl::Ceil(remaining, absl::Seconds(1));
  absl::Time until = now_() + wait;
  return absl::ResourceExhaustedError(absl::StrCat(
      "verification_code: too many wrong codes ",
      scope == "ticket" ? "for this ticket" : "from this caller", "; locked, retry after ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", until, absl::UTCTimeZone()), " (in ",
      absl::FormatDuration(wait), ")"));
}

absl::Status VerificationThrottle::Begin(const std::string& ticket_key, const std::string& label,
                                         const std::string& caller) {
  auto keys = Keys(ticket_key, caller);
  auto locked = store_->LockRemaining(keys);
  if (!locked.ok()) return locked.status();
  for (size_t i = 0; i < keys.size(); ++i) {
    if ((*locked)[i] > absl::ZeroDuration()) {
      return LockedError(i == 0 ? "ticket" : "caller", (*locked)[i]);
    }
  }
  auto counts = store_->Count(keys, opts_.window);
  if (!counts.ok()) return counts.status();
  for (size_t i = 0; i < keys.size(); ++i) {
    int64_t limit = i == 0 ? opts_.max_failures_per_ticket : opts_.max_failures_per_caller;
    if ((*counts)[i] <= limit) continue;
    if (auto s = store_->Lock(keys[i], opts_.lockout); !s.ok()) return s;
    Lockout l{i == 0 ? "ticket" : "caller", label, caller, now_() + opts_.lockout};
    // Who and which ticket, never the citizen: an operator can see an attack and its source.
    LogWarn("verification code locked after too many wrong attempts",
            {{"scope", l.scope},
             {"ticket", l.ticket},
             {"caller", l.caller},
             {"until", absl::FormatTime(absl::RFC3339_sec, l.until, absl::UTCTimeZone())}});
    if (on_lockout_) on_lockout_(l);
    return LockedError(l.scope, opts_.lockout);
  }
  return absl::OkStatus();
}

absl::Status VerificationThrottle::Succeeded(const std::string& ticket_key,
                                             const std::string& caller) {
  return store_->Uncount(Keys(ticket_key, caller));
}

}  // namespace hotline::intake

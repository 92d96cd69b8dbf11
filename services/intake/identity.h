#pragma once

#include <string>

#include "absl/time/time.h"

namespace hotline::intake {

// The number a citizen reads out on the phone: <CITY>-<YYYYMMDD>-<6-digit daily sequence>,
// e.g. "GZ-20261124-000123". The date is the hotline's local date; the sequence comes from
// Redis INCR, so it is unique across every intake instance sharing the store.
std::string FormatTicketNumber(const std::string& city, absl::Time now, absl::TimeZone zone,
                               int64_t sequence);
// "20261124": the key of the daily sequence.
std::string LocalDate(absl::Time now, absl::TimeZone zone);

// A six-digit code given to the citizen at submission; TrackTicket asks for it.
std::string NewVerificationCode();

// Pseudonymous citizen id: HMAC-SHA256(key, canonical contact), hex, 24 chars. Stable for one
// key, so the same caller is recognised across channels; not reversible without the key.
std::string CitizenId(const std::string& key, const std::string& canonical_contact);

// Hash used to find recent tickets at the same place: district + address, normalised.
std::string PlaceKey(const std::string& district, const std::string& address);

}  // namespace hotline::intake

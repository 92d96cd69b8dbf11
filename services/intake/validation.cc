#include "services/intake/validation.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/text.h"

namespace hotline::intake {
namespace {

absl::Status Invalid(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

std::string DigitsOnly(const std::string& s) {
  std::string d;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c))) d.push_back(c);
  }
  return d;
}

bool OnlyPhoneChars(const std::string& s) {
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != ' ' &&
        c != '(' && c != ')') {
      return false;
    }
  }
  return true;
}

// Mainland area codes: 010, 02x (2 digits after 0) or 0xxx (3 digits after 0).
bool SplitLandline(const std::string& national, std::string* area, std::string* local) {
  if (national.size() < 10 || national[0] != '0') return false;
  size_t area_len = (national[1] == '1' || national[1] == '2') ? 3 : 4;
  if (national[1] == '1' && national[2] != '0') return false;  // 01x other than 010: mobile-ish
  *area = national.substr(0, area_len);
  *local = national.substr(area_len);
  return local->size() == 7 || local->size() == 8;
}

bool IsEmail(const std::string& s) {
  auto at = s.find('@');
  if (at == std::string::npos || at == 0 || s.find('@', at + 1) != std::string::npos) return false;
  auto dot = s.find('.', at);
  if (dot == std::string::npos || dot == at + 1 || dot + 1 >= s.size()) return false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) < 0x21)
      return false;
  }
  return s.size() <= 254;
}

}  // namespace

absl::Status CheckText(const std::string& field, const std::string& value, size_t max_chars,
                       bool required) {
  if (!IsValidUtf8(value)) return Invalid(field, "not valid UTF-8");
  if (required && absl::StripAsciiWhitespace(value).empty()) return Invalid(field, "is required");
  size_t n = Utf8Length(value);
  if (n > max_chars) {
    return Invalid(field, absl::StrCat("too long: ", n, " characters, at most ", max_chars));
  }
  for (unsigned char c : value) {
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
      return Invalid(field, "contains control characters");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizePhone(const std::string& field, const std::string& raw) {
  std::string s(absl::StripAsciiWhitespace(raw));
  if (s.empty()) return Invalid(field, "is required");
  if (!OnlyPhoneChars(s)) return Invalid(field, "may contain only digits, spaces, + - ( )");
  std::string digits = DigitsOnly(s);
  bool plus = s[0] == '+';
  if (plus && digits.rfind("86", 0) == 0) {
    digits = digits.substr(2);
    plus = false;  // mainland number written internationally
    if (!digits.empty() && digits[0] != '1') digits = "0" + digits;  // +86 20 ... → 020 ...
  } else if (!plus && digits.rfind("0086", 0) == 0) {
    digits = digits.substr(4);
    if (!digits.empty() && digits[0] != '1') digits = "0" + digits;
  }
  if (plus) {
    if (digits.size() < 8 || digits.size() > 15 || digits[0] == '0') {
      return Invalid(field, "international numbers are + then 8 to 15 digits (E.164)");
    }
    return "+" + digits;
  }
  if (digits.size() == 11 && digits[0] == '1') {
    if (digits[1] < '3' || digits[1] > '9') return Invalid(field, "not a mainland mobile number");
    return "+86" + digits;
  }
  // Landline, optionally with an extension after a '-' (020-83838383-123).
  std::string ext;
  auto last_dash = s.rfind('-');
  if (last_dash != std::string::npos) {
    std::string tail = DigitsOnly(s.substr(last_dash + 1));
    std::string head = DigitsOnly(s.substr(0, last_dash));
    std::string a, l;
    if (tail.size() <= 6 && SplitLandline(head, &a, &l)) {
      ext = tail;
      digits = head;
    }
  }
  std::string area, local;
  if (!SplitLandline(digits, &area, &local)) {
    return Invalid(field,
                   "not a mainland mobile (11 digits from 13x–19x), a landline with area code "
                   "(020-83838383) or an international number (+44...)");
  }
  std::string out = absl::StrCat("+86-", area.substr(1), "-", local);
  if (!ext.empty()) absl::StrAppend(&out, "-", ext);
  return out;
}

absl::Status ValidateSubmission(const v1::SubmitRequestRequest& req) {
  using v1::Channel;
  if (req.channel() == v1::CHANNEL_UNSPECIFIED || !v1::Channel_IsValid(req.channel())) {
    return Invalid("channel",
                   "is required (phone, web, wechat, app, sms, email, transfer_110, "
                   "message_board, enterprise_line)");
  }
  const std::string& key = req.idempotency_key();
  if (key.empty()) return Invalid("idempotency_key", "is required; use one per request attempt");
  if (key.size() > kMaxIdempotencyKeyBytes) {
    return Invalid("idempotency_key",
                   absl::StrCat("longer than ", kMaxIdempotencyKeyBytes, " bytes"));
  }
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7E) return Invalid("idempotency_key", "must be printable ASCII");
  }
  if (auto s = CheckText("text", req.text(), kMaxTextChars, true); !s.ok()) return s;
  if (Utf8Length(std::string(absl::StripAsciiWhitespace(req.text()))) < 4) {
    return Invalid("text", "too short to act on: describe the request in at least 4 characters");
  }
  if (auto s = CheckText("location.address", req.location().address(), kMaxAddressChars, false);
      !s.ok()) {
    return s;
  }
  if (auto s = CheckText("location.district", req.location().district(), 50, false); !s.ok())
    return s;
  const auto& loc = req.location();
  if (loc.latitude() < -90 || loc.latitude() > 90)
    return Invalid("location.latitude", "outside -90..90");
  if (loc.longitude() < -180 || loc.longitude() > 180) {
    return Invalid("location.longitude", "outside -180..180");
  }
  if (!v1::TicketType_IsValid(req.type_hint())) return Invalid("type_hint", "unknown ticket type");
  const auto& c = req.contact();
  if (auto s = CheckText("contact.name", c.name(), kMaxNameChars, false); !s.ok()) return s;
  if (!c.phone().empty()) {
    if (auto p = NormalizePhone("contact.phone", c.phone()); !p.ok()) return p.status();
  }
  if (!c.email().empty() && !IsEmail(c.email()))
    return Invalid("contact.email", "not an e-mail address");
  if (auto s = CheckText("call_id", req.call_id(), 64, false); !s.ok()) return s;
  if (auto s = CheckText("external_ref", req.external_ref(), 64, false); !s.ok()) return s;

  // What each channel must carry so the hotline can answer and follow up.
  bool has_contact = !c.phone().empty() || !c.email().empty() || !c.wechat_openid().empty();
  switch (req.channel()) {
    case v1::CHANNEL_PHONE:
      if (req.call_id().empty()) return Invalid("call_id", "is required for phone requests");
      if (c.phone().empty() && !req.anonymous()) {
        return Invalid("contact.phone", "is required for phone requests (the caller id)");
      }
      break;
    case v1::CHANNEL_SMS:
    case v1::CHANNEL_ENTERPRISE_LINE:
      if (c.phone().empty()) {
        return Invalid("contact.phone",
                       absl::StrCat("is required for ", EnumLabel(Channel_Name(req.channel()), 8),
                                    " requests"));
      }
      break;
    case v1::CHANNEL_EMAIL:
      if (c.email().empty()) return Invalid("contact.email", "is required for email requests");
      break;
    case v1::CHANNEL_WECHAT:
      if (c.wechat_openid().empty() && c.phone().empty()) {
        return Invalid("contact.wechat_openid", "or contact.phone is required for WeChat requests");
      }
      break;
    case v1::CHANNEL_TRANSFER_110:
      if (req.external_ref().empty()) {
        return Invalid("external_ref", "is required for 110 transfers (the 110 case number)");
      }
      break;
    default:
      if (!has_contact && !req.anonymous()) {
        return Invalid("contact", "give a phone, email or WeChat id, or set anonymous");
      }
  }
  return absl::OkStatus();
}

}  // namespace hotline::intake

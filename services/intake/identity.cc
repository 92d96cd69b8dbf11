#include "services/intake/identity.h"

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "services/common/text.h"

namespace hotline::intake {
namespace {

std::string HmacHex(const std::string& key, const std::string& data, size_t chars) {
  unsigned char out[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return absl::BytesToHexString(std::string(reinterpret_cast<char*>(out), len)).substr(0, chars);
}

}  // namespace

std::string LocalDate(absl::Time now, absl::TimeZone zone) {
  return absl::FormatTime("%Y%m%d", now, zone);
}

std::string FormatTicketNumber(const std::string& city, absl::Time now, absl::TimeZone zone,
                               int64_t sequence) {
  return absl::StrFormat("%s-%s-%06d", city, LocalDate(now, zone), sequence);
}

std::string NewVerificationCode() {
  uint32_t v = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) {
    static thread_local std::mt19937 rng{std::random_device{}()};
    v = rng();
  }
  return absl::StrFormat("%06u", v % 1000000);
}

std::string CitizenId(const std::string& key, const std::string& canonical_contact) {
  return "c-" + HmacHex(key, canonical_contact, 24);
}

std::string PlaceKey(const std::string& district, const std::string& address) {
  std::string addr = NormalizeText(address);
  if (addr.empty()) return "";
  return HmacHex("place", NormalizeText(district) + "|" + addr, 16);
}

}  // namespace hotline::intake

#include "common/auth/signing_keys.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace signpost::auth {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

absl::Status CheckRsa(EVP_PKEY* key, const char* what) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not an RSA key (RS256 only)"));
  }
  if (EVP_PKEY_get_bits(key) < 2048) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has ", EVP_PKEY_get_bits(key), " bits; at least 2048 are needed"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<VerificationKey>> ParsePublicKeys(absl::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::ResourceExhaustedError("out of memory reading keys");
  std::vector<VerificationKey> keys;
  while (true) {
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
    if (key == nullptr) break;
    KeyHandle handle(key, EVP_PKEY_free);
    std::string what = absl::StrCat("public key ", keys.size() + 1);
    if (absl::Status s = CheckRsa(key, what.c_str()); !s.ok()) return s;
    keys.push_back({KeyIdOf(key), std::move(handle)});
  }
  ERR_clear_error();
  // The loop stops at the end of the text or at the first block that is no public key.
  size_t blocks = 0;
  for (size_t at = pem.find("-----BEGIN "); at != absl::string_view::npos;
       at = pem.find("-----BEGIN ", at + 1)) {
    ++blocks;
  }
  if (blocks != keys.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("block ", keys.size() + 1, " is not a PEM PUBLIC KEY"));
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError("no PEM PUBLIC KEY block: nothing to verify tokens with");
  }
  return keys;
}

absl::StatusOr<KeyHandle> ParsePrivateKey(absl::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::ResourceExhaustedError("out of memory reading the key");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  if (key == nullptr) return absl::InvalidArgumentError("not a PEM private key");
  KeyHandle handle(key, EVP_PKEY_free);
  if (absl::Status s = CheckRsa(key, "the signing key"); !s.ok()) return s;
  return handle;
}

std::string KeyIdOf(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return "";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<size_t>(length), digest);
  OPENSSL_free(der);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 8));
}

absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace signpost::auth

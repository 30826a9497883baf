#include "common/crypto/personal_details_cipher.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace signpost::crypto {
namespace {

constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// What the tag binds besides the plaintext: the referral, the key, and the person reference that
// travels beside the ciphertext (so it cannot be altered unseen either).
std::string AssociatedData(absl::string_view referral_id, absl::string_view key_id,
                           absl::string_view person_ref) {
  return absl::StrCat("signpost.v1.PersonalDetails\n", referral_id, "\n", key_id, "\n", person_ref);
}

// What the tag binds for details kept at rest: the record they belong to and the key. Its label
// differs from the bus's, so sealed details cannot be moved between an event and a record.
std::string RecordAssociatedData(absl::string_view record, absl::string_view key_id) {
  return absl::StrCat("signpost.v1.PersonalDetails.at-rest\n", record, "\n", key_id);
}

struct Sealed {
  std::string nonce;
  std::string ciphertext;  // followed by the tag
};

// AES-256-GCM with a fresh random nonce.
absl::StatusOr<Sealed> Encrypt(const DataKey& key, absl::string_view plaintext,
                               absl::string_view aad) {
  std::string nonce(kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), kNonceBytes) != 1) {
    return absl::InternalError("sealing personal details: no random bytes for the nonce");
  }
  CipherContext ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(plaintext.size() + kTagBytes, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, total = 0;
  bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key.bytes), Bytes(nonce)) &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) &&
      EVP_EncryptUpdate(ctx.get(), dst, &len, Bytes(plaintext), static_cast<int>(plaintext.size()));
  total = len;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), dst + total, &len);
  total += len;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, dst + total) == 1;
  if (!ok) return absl::InternalError("sealing personal details: the cipher failed");
  out.resize(static_cast<size_t>(total) + kTagBytes);
  return Sealed{std::move(nonce), std::move(out)};
}

// The plaintext, or nullopt when it does not authenticate (or is malformed).
std::optional<std::string> Decrypt(const DataKey& key, absl::string_view nonce,
                                   absl::string_view in, absl::string_view aad) {
  if (nonce.size() != kNonceBytes || in.size() < kTagBytes) return std::nullopt;
  size_t body = in.size() - kTagBytes;
  std::string tag(in.substr(body));
  CipherContext ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string plaintext(body, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(plaintext.data());
  int len = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key.bytes), Bytes(nonce)) &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) &&
            EVP_DecryptUpdate(ctx.get(), dst, &len, Bytes(in), static_cast<int>(body)) &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) &&
            EVP_DecryptFinal_ex(ctx.get(), dst + len, &len) > 0;
  if (!ok) return std::nullopt;
  return plaintext;
}

absl::Status MissingKey(absl::string_view key_id) {
  return absl::FailedPreconditionError(
      absl::StrCat("personal details sealed with data key '", key_id,
                   "', which this service's keyring does not hold"));
}

std::string Compact(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (!absl::ascii_isspace(c)) out.push_back(absl::ascii_tolower(c));
  }
  return out;
}

}  // namespace

absl::Status PersonalDetailsCipher::Seal(v1::Referral& referral,
                                         absl::string_view referral_id) const {
  const DataKey& key = keys_.current();
  v1::PersonalDetails details;
  *details.mutable_identity() = referral.identity();
  details.set_notes(referral.notes());
  std::string plaintext;
  if (!details.SerializeToString(&plaintext)) return absl::InternalError("serialising details");

  auto person_ref = PersonRef(referral.identity());
  if (!person_ref.ok()) return person_ref.status();
  auto out = Encrypt(key, plaintext, AssociatedData(referral_id, key.id, *person_ref));
  if (!out.ok()) return out.status();

  v1::SealedPersonalDetails* sealed = referral.mutable_sealed();
  sealed->set_key_id(key.id);
  sealed->set_nonce(std::move(out->nonce));
  sealed->set_ciphertext(std::move(out->ciphertext));
  sealed->set_person_ref(*std::move(person_ref));
  referral.clear_identity();
  referral.clear_notes();
  return absl::OkStatus();
}

absl::Status PersonalDetailsCipher::Open(v1::Referral& referral,
                                         absl::string_view referral_id) const {
  if (!referral.has_sealed()) return absl::OkStatus();
  const v1::SealedPersonalDetails& sealed = referral.sealed();
  const DataKey* key = keys_.Find(sealed.key_id());
  if (key == nullptr) return MissingKey(sealed.key_id());
  std::optional<std::string> plaintext =
      Decrypt(*key, sealed.nonce(), sealed.ciphertext(),
              AssociatedData(referral_id, key->id, sealed.person_ref()));
  v1::PersonalDetails details;
  if (!plaintext || !details.ParseFromString(*plaintext)) {
    return absl::DataLossError(
        "sealed personal details do not authenticate for this referral (altered, or moved from "
        "another one)");
  }
  *referral.mutable_identity() = std::move(*details.mutable_identity());
  referral.set_notes(std::move(*details.mutable_notes()));
  referral.clear_sealed();
  return absl::OkStatus();
}

absl::StatusOr<v1::SealedPersonalDetails> PersonalDetailsCipher::SealRecord(
    const v1::PersonalDetails& details, absl::string_view record) const {
  const DataKey& key = keys_.current();
  std::string plaintext;
  if (!details.SerializeToString(&plaintext)) return absl::InternalError("serialising details");
  auto out = Encrypt(key, plaintext, RecordAssociatedData(record, key.id));
  if (!out.ok()) return out.status();
  v1::SealedPersonalDetails sealed;
  sealed.set_key_id(key.id);
  sealed.set_nonce(std::move(out->nonce));
  sealed.set_ciphertext(std::move(out->ciphertext));
  return sealed;
}

absl::StatusOr<v1::PersonalDetails> PersonalDetailsCipher::OpenRecord(
    const v1::SealedPersonalDetails& sealed, absl::string_view record) const {
  const DataKey* key = keys_.Find(sealed.key_id());
  if (key == nullptr) return MissingKey(sealed.key_id());
  std::optional<std::string> plaintext =
      Decrypt(*key, sealed.nonce(), sealed.ciphertext(), RecordAssociatedData(record, key->id));
  v1::PersonalDetails details;
  if (!plaintext || !details.ParseFromString(*plaintext)) {
    return absl::DataLossError(
        "sealed personal details do not authenticate for this record (altered, or moved from "
        "another one)");
  }
  return details;
}

absl::StatusOr<std::string> PersonalDetailsCipher::PersonRef(
    const v1::PersonIdentity& identity) const {
  std::string subject;
  if (!identity.nhs_number().empty()) {
    subject = absl::StrCat("nhs:", Compact(identity.nhs_number()));
  } else if (!identity.family_name().empty() && identity.date_of_birth().year() != 0) {
    const auto& dob = identity.date_of_birth();
    subject =
        absl::StrCat("pds:", Compact(identity.given_name()), "|", Compact(identity.family_name()),
                     "|", absl::StrFormat("%04d-%02d-%02d", dob.year(), dob.month(), dob.day()),
                     "|", Compact(identity.postcode()));
  } else {
    return "";
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  const std::string& key = keys_.person_hash_key();
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), Bytes(subject), subject.size(),
           digest, &digest_len) == nullptr) {
    return absl::InternalError("sealing personal details: the keyed hash failed");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), digest_len));
}

}  // namespace signpost::crypto

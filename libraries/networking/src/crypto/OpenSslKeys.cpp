#include "OpenSslKeys_p.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

namespace OpenSslKeys {

namespace {

// i2d_* functions allocate their output when given a null buffer pointer.
template <typename Encode> QByteArray encode(Encode encodeFn, bool secret) {
    unsigned char *buffer = nullptr;
    const int length = encodeFn(&buffer);
    if (length <= 0 || !buffer) {
        ERR_clear_error();
        return {};
    }
    QByteArray out(reinterpret_cast<const char *>(buffer), length);
    if (secret)
        OPENSSL_clear_free(buffer, size_t(length));
    else
        OPENSSL_free(buffer);
    return out;
}

PkeyPtr requireRsa(PkeyPtr key, QString *errorString) {
    if (key && !EVP_PKEY_is_a(key.get(), "RSA")) {
        if (errorString) {
            const char *type = EVP_PKEY_get0_type_name(key.get());
            *errorString = QStringLiteral("not an RSA key (the key type is %1)")
                               .arg(QString::fromLatin1(type ? type : "unknown"));
        }
        return {};
    }
    return key;
}

bool setError(QString *errorString, const QString &message) {
    if (errorString)
        *errorString = message;
    return false;
}

} // namespace

PkeyPtr parsePublicDer(const QByteArray &der, PublicDer form, QString *errorString) {
    const auto *begin = reinterpret_cast<const unsigned char *>(der.constData());
    const unsigned char *cursor = begin;
    PkeyPtr key(form == PublicDer::SubjectPublicKeyInfo
                    ? d2i_PUBKEY(nullptr, &cursor, long(der.size()))
                    : d2i_PublicKey(EVP_PKEY_RSA, nullptr, &cursor, long(der.size())));
    const QString formName = form == PublicDer::SubjectPublicKeyInfo ? QStringLiteral("SubjectPublicKeyInfo")
                                                                     : QStringLiteral("PKCS#1 RSAPublicKey");
    if (!key) {
        setError(errorString, takeError(QStringLiteral("not a valid %1 DER structure").arg(formName)));
        return {};
    }
    if (cursor != begin + der.size()) {
        setError(errorString,
                 QStringLiteral("%1 DER has %2 trailing bytes").arg(formName).arg(der.size() - int(cursor - begin)));
        return {};
    }
    return requireRsa(std::move(key), errorString);
}

PkeyPtr parsePrivateDer(const QByteArray &der, QString *errorString) {
    const auto *begin = reinterpret_cast<const unsigned char *>(der.constData());
    const unsigned char *cursor = begin;
    // d2i_AutoPrivateKey recognises both PKCS#8 and the traditional (PKCS#1 for RSA) structure.
    PkeyPtr key(d2i_AutoPrivateKey(nullptr, &cursor, long(der.size())));
    if (!key) {
        setError(errorString, takeError(QStringLiteral("not a valid PKCS#1 or PKCS#8 private key DER structure")));
        return {};
    }
    if (cursor != begin + der.size()) {
        setError(errorString,
                 QStringLiteral("private key DER has %1 trailing bytes").arg(der.size() - int(cursor - begin)));
        return {};
    }
    return requireRsa(std::move(key), errorString);
}

PkeyPtr generate(int bits, QString *errorString) {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), &EVP_PKEY_CTX_free);
    std::unique_ptr<BIGNUM, decltype(&BN_free)> exponent(BN_new(), &BN_free);
    EVP_PKEY *raw = nullptr;
    if (!context || !exponent || BN_set_word(exponent.get(), RSA_F4) != 1 || EVP_PKEY_keygen_init(context.get()) != 1
        || EVP_PKEY_CTX_set_rsa_keygen_bits(context.get(), bits) != 1
        || EVP_PKEY_CTX_set1_rsa_keygen_pubexp(context.get(), exponent.get()) != 1
        || EVP_PKEY_generate(context.get(), &raw) != 1) {
        setError(errorString, takeError(QStringLiteral("RSA key generation failed")));
        return {};
    }
    return PkeyPtr(raw);
}

QByteArray subjectPublicKeyInfoDer(EVP_PKEY *key) {
    return encode([key](unsigned char **out) { return i2d_PUBKEY(key, out); }, false);
}

QByteArray pkcs1PublicDer(EVP_PKEY *key) {
    // For an RSA key, i2d_PublicKey writes the type-specific structure: PKCS#1 RSAPublicKey.
    return encode([key](unsigned char **out) { return i2d_PublicKey(key, out); }, false);
}

QByteArray pkcs1PrivateDer(EVP_PKEY *key) {
    // For an RSA key, i2d_PrivateKey writes the traditional structure: PKCS#1 RSAPrivateKey.
    return encode([key](unsigned char **out) { return i2d_PrivateKey(key, out); }, true);
}

QByteArray pkcs8PrivateDer(EVP_PKEY *key) {
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, decltype(&PKCS8_PRIV_KEY_INFO_free)> info(EVP_PKEY2PKCS8(key),
                                                                                   &PKCS8_PRIV_KEY_INFO_free);
    if (!info) {
        ERR_clear_error();
        return {};
    }
    return encode([&info](unsigned char **out) { return i2d_PKCS8_PRIV_KEY_INFO(info.get(), out); }, true);
}

QString takeError(const QString &what) {
    QString detail;
    while (const unsigned long code = ERR_get_error()) {
        if (detail.isEmpty()) { // the first error is the root cause
            char buffer[256];
            ERR_error_string_n(code, buffer, sizeof buffer);
            detail = QString::fromLatin1(buffer);
        }
    }
    return detail.isEmpty() ? what : QStringLiteral("%1 (%2)").arg(what, detail);
}

} // namespace OpenSslKeys

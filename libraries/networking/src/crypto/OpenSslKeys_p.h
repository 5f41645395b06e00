// OpenSSL 3 (EVP only) helpers shared by the key classes and the OpenSSL backend: parse RSA keys from
// DER, write them back in canonical forms, and turn the OpenSSL error queue into a message.
#pragma once

#include <QByteArray>
#include <QString>

#include <openssl/evp.h>

#include <memory>

namespace OpenSslKeys {

struct PkeyDeleter {
    void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

enum class PublicDer { SubjectPublicKeyInfo, Pkcs1 };

// Each parser consumes the whole input (trailing bytes are an error) and accepts RSA keys only.
PkeyPtr parsePublicDer(const QByteArray &der, PublicDer form, QString *errorString);
// PKCS#1 RSAPrivateKey or unencrypted PKCS#8 PrivateKeyInfo.
PkeyPtr parsePrivateDer(const QByteArray &der, QString *errorString);
PkeyPtr generate(int bits, QString *errorString);

QByteArray subjectPublicKeyInfoDer(EVP_PKEY *key);
QByteArray pkcs1PublicDer(EVP_PKEY *key);
QByteArray pkcs1PrivateDer(EVP_PKEY *key);
QByteArray pkcs8PrivateDer(EVP_PKEY *key);

// Drains this thread's OpenSSL error queue into one line, prefixed with what we were doing.
QString takeError(const QString &what);

} // namespace OpenSslKeys

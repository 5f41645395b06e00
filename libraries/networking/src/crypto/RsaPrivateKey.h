// An RSA private key as a small immutable value: a domain server's signing key. Generated here or
// read from PKCS#1 / PKCS#8 (DER or PEM); its canonical content is PKCS#1 DER, which Overte stores.
// Files are written owner-only (0600) from the moment they exist.
#pragma once

#include "RsaPublicKey.h"

#include <QByteArray>
#include <QMetaType>
#include <QString>

#include <memory>

class RsaPrivateKeyData;

class RsaPrivateKey {
public:
    RsaPrivateKey() = default; // a null key

    // A fresh key with public exponent 65537. bits must be in [1024, 16384].
    static RsaPrivateKey generate(int bits = 2048, QString *errorString = nullptr);
    // Accepts DER PKCS#1 RSAPrivateKey, DER PKCS#8 PrivateKeyInfo (unencrypted), or PEM of either
    // ("RSA PRIVATE KEY", "PRIVATE KEY"). Anything else gives a null key and a reason.
    static RsaPrivateKey fromData(const QByteArray &data, QString *errorString = nullptr);
    static RsaPrivateKey loadFromFile(const QString &path, QString *errorString = nullptr);

    // Writes toPem() atomically (temporary file, then rename) with permissions 0600.
    bool saveToFile(const QString &path, QString *errorString = nullptr) const;

    bool isNull() const { return !d; }
    int bits() const;
    RsaPublicKey publicKey() const;

    QByteArray toPkcs1Der() const;
    QByteArray toPkcs8Der() const;
    QByteArray toPem() const; // "BEGIN RSA PRIVATE KEY" (PKCS#1)

    friend bool operator==(const RsaPrivateKey &a, const RsaPrivateKey &b) { return a.toPkcs1Der() == b.toPkcs1Der(); }
    friend bool operator!=(const RsaPrivateKey &a, const RsaPrivateKey &b) { return !(a == b); }

private:
    friend class CryptoBackend;
    explicit RsaPrivateKey(std::shared_ptr<const RsaPrivateKeyData> data);

    std::shared_ptr<const RsaPrivateKeyData> d;
};

Q_DECLARE_METATYPE(RsaPrivateKey)

// An RSA public key as a small immutable value, e.g. the domain key the ice-server checks heartbeats with.
// It reads every form Overte and metaverse servers use (SPKI or PKCS#1; DER, PEM or base64; quirk Q8),
// and its canonical content is DER SubjectPublicKeyInfo, so a key compares equal whatever form it came in.
#pragma once

#include <QByteArray>
#include <QMetaType>
#include <QString>

#include <memory>

class RsaPublicKeyData;

class RsaPublicKey {
public:
    RsaPublicKey() = default; // a null key

    // Accepts DER SubjectPublicKeyInfo, DER PKCS#1 RSAPublicKey, PEM of either ("PUBLIC KEY",
    // "RSA PUBLIC KEY"), or base64 of either DER (whitespace and line breaks ignored).
    // Anything else, including a non-RSA key, gives a null key and a reason in *errorString.
    static RsaPublicKey fromData(const QByteArray &data, QString *errorString = nullptr);

    bool isNull() const { return !d; }
    int bits() const;

    QByteArray toSubjectPublicKeyInfoDer() const; // what the ice-server fetches (docs/protocol.md 5.1)
    QByteArray toPkcs1Der() const;                // what Overte domain servers upload (docs/protocol.md 5.2)
    QByteArray toBase64() const;                  // base64 of the SPKI DER, no line breaks
    QByteArray toPem() const;                     // "BEGIN PUBLIC KEY" (SPKI)

    friend bool operator==(const RsaPublicKey &a, const RsaPublicKey &b) {
        return a.toSubjectPublicKeyInfoDer() == b.toSubjectPublicKeyInfoDer();
    }
    friend bool operator!=(const RsaPublicKey &a, const RsaPublicKey &b) { return !(a == b); }

private:
    friend class CryptoBackend;
    friend class RsaPrivateKey;
    explicit RsaPublicKey(std::shared_ptr<const RsaPublicKeyData> data);

    std::shared_ptr<const RsaPublicKeyData> d;
};

Q_DECLARE_METATYPE(RsaPublicKey)

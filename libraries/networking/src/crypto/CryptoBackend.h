// The one small interface every RSA signature backend implements: RSASSA-PKCS1-v1_5 with SHA-256, as
// Overte signs ICE heartbeats (docs/protocol.md 3.1). OpenSSL 3 is always built, QCA only on Qt 5 builds; a
// signature made by one verifies with the other. Backends are process-wide and stateless to callers.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <memory>

class CryptoKeyHandle;
class RsaPrivateKey;
class RsaPublicKey;

class CryptoBackend {
public:
    virtual ~CryptoBackend();

    virtual QString name() const = 0;

    // Signs data with the key. On any failure it returns an EMPTY array and says why in
    // *errorString; it never returns a zero-filled signature (quirk Q9).
    QByteArray sign(const RsaPrivateKey &key, const QByteArray &data, QString *errorString = nullptr) const;

    // True only for a valid signature of data by key. Safe to call from many threads at once;
    // the key is parsed once per backend and the result cached inside the key.
    bool verify(const RsaPublicKey &key, const QByteArray &data, const QByteArray &signature) const;

    // QCA when the build made it the default (Qt 5), otherwise OpenSSL.
    static CryptoBackend *defaultBackend();
    static CryptoBackend *openSsl();
    static CryptoBackend *qca(); // nullptr when the build has no QCA
    static QList<CryptoBackend *> all();

protected:
    CryptoBackend() = default;

    using KeyHandlePtr = std::shared_ptr<const CryptoKeyHandle>;

    // Parse a key into this backend's own form; null with a reason on failure.
    virtual KeyHandlePtr preparePublicKey(const RsaPublicKey &key, QString *errorString) const = 0;
    virtual KeyHandlePtr preparePrivateKey(const RsaPrivateKey &key, QString *errorString) const = 0;
    // Handles given here were made by this backend's prepare functions.
    virtual QByteArray signPrepared(const CryptoKeyHandle &key, const QByteArray &data, QString *errorString) const = 0;
    virtual bool verifyPrepared(const CryptoKeyHandle &key, const QByteArray &data,
                                const QByteArray &signature) const = 0;

private:
    CryptoBackend(const CryptoBackend &) = delete;
    CryptoBackend &operator=(const CryptoBackend &) = delete;
};

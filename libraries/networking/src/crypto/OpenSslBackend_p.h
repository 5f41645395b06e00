// The OpenSSL 3 backend: EVP_DigestSign / EVP_DigestVerify with PKCS#1 v1.5 padding and SHA-256.
// Always built. An EVP_PKEY is safe for concurrent signing and verifying, so handles need no lock.
#pragma once

#include "CryptoBackend.h"

#include <openssl/evp.h>

class OpenSslBackend final : public CryptoBackend {
public:
    OpenSslBackend();
    ~OpenSslBackend() override;

    QString name() const override { return QStringLiteral("OpenSSL"); }

protected:
    KeyHandlePtr preparePublicKey(const RsaPublicKey &key, QString *errorString) const override;
    KeyHandlePtr preparePrivateKey(const RsaPrivateKey &key, QString *errorString) const override;
    QByteArray signPrepared(const CryptoKeyHandle &key, const QByteArray &data, QString *errorString) const override;
    bool verifyPrepared(const CryptoKeyHandle &key, const QByteArray &data, const QByteArray &signature) const override;

private:
    EVP_MD *m_sha256 = nullptr; // fetched once instead of by name on every call
};

// The QCA backend (Qt 5 builds only): RSA EMSA3 (PKCS#1 v1.5) with SHA-256 through the qca-ossl
// plugin. It keeps QCA initialised for the life of the process and reports a missing plugin clearly.
#pragma once

#include "CryptoBackend.h"

#include <memory>

namespace QCA {
class Initializer;
}

class QcaBackend final : public CryptoBackend {
public:
    QcaBackend();

    QString name() const override { return QStringLiteral("QCA"); }

protected:
    KeyHandlePtr preparePublicKey(const RsaPublicKey &key, QString *errorString) const override;
    KeyHandlePtr preparePrivateKey(const RsaPrivateKey &key, QString *errorString) const override;
    QByteArray signPrepared(const CryptoKeyHandle &key, const QByteArray &data, QString *errorString) const override;
    bool verifyPrepared(const CryptoKeyHandle &key, const QByteArray &data, const QByteArray &signature) const override;

private:
    bool checkSupported(QString *errorString) const;

    // Shared with every key handle this backend makes, so QCA stays initialised until the last
    // QCA key object is gone, even when a key outlives the backend during static destruction.
    std::shared_ptr<QCA::Initializer> m_initializer;
};

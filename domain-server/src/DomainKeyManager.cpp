#include "DomainKeyManager.h"

#include "DomainServerLogging.h"
#include "MetaverseApi.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QSaveFile>
#include <QtCore/QThread>

#include <memory>

DomainKeyManager::DomainKeyManager(const QUuid &domainID, const QString &keypairPath, QObject *parent)
    : QObject(parent), _domainID(domainID), _keypairPath(keypairPath) {}

DomainKeyManager::~DomainKeyManager() {
    if (_thread) {
        _thread->wait(); // it only runs RSA key generation; it cannot be interrupted halfway
    }
}

QString DomainKeyManager::publicKeyPath() const {
    return QFileInfo(_keypairPath).dir().filePath(_domainID.toString(QUuid::WithoutBraces) + QStringLiteral(".pub"));
}

bool DomainKeyManager::loadOrCreate(bool *created) {
    if (created) {
        *created = false;
    }
    if (QFileInfo::exists(_keypairPath)) {
        QString why;
        RsaPrivateKey key = RsaPrivateKey::loadFromFile(_keypairPath, &why);
        if (key.isNull()) {
            fail(Error::UnreadableKeypair, QStringLiteral("cannot read keypair %1: %2").arg(_keypairPath, why));
            return false;
        }
        _key = key;
        return true;
    }
    QString why;
    RsaPrivateKey key = RsaPrivateKey::generate(KeyBits, &why);
    if (key.isNull()) {
        fail(Error::GenerationFailed, QStringLiteral("cannot generate a keypair: %1").arg(why));
        return false;
    }
    if (!adopt(key)) {
        return false;
    }
    if (created) {
        *created = true;
    }
    return true;
}

void DomainKeyManager::generateNewDomainKeypair() {
    if (_generating) {
        return;
    }
    if (!_api && _awaitingOperator) {
        qCInfo(domain_server).noquote() << "still waiting for the ice-server to accept the key in" << publicKeyPath()
                                        << "- not making another one";
        return;
    }
    if (_api && _sinceUpload.isValid() && _sinceUpload.elapsed() < _holdOffMs) {
        if (!_holdOffLogged) {
            _holdOffLogged = true;
            qCInfo(domain_server).noquote()
                << "a new public key was uploaded" << _sinceUpload.elapsed() / 1000 << "s ago; waiting up to"
                << _holdOffMs / 1000 << "s for the ice-server to fetch it before making another";
        }
        return;
    }
    _generating = true;
    _holdOffLogged = false;
    qCInfo(domain_server) << "generating a new domain keypair";
    auto result = std::make_shared<std::pair<RsaPrivateKey, QString>>();
    QThread *thread = QThread::create(
        [result]() { result->first = RsaPrivateKey::generate(KeyBits, &result->second); });
    _thread = thread;
    connect(thread, &QThread::finished, this, [this, thread, result]() {
        thread->deleteLater();
        handleGenerated(result->first, result->second);
    });
    thread->start();
}

void DomainKeyManager::handleGenerated(const RsaPrivateKey &key, const QString &why) {
    if (key.isNull()) {
        _generating = false;
        fail(Error::GenerationFailed, QStringLiteral("keypair generation failed: %1").arg(why));
        return;
    }
    if (_api) {
        _pendingUpload = key;
        connect(_api, &MetaverseApi::publicKeyUploadFinished, this, [this](bool ok, const QString &uploadError) {
            disconnect(_api, &MetaverseApi::publicKeyUploadFinished, this, nullptr);
            _generating = false;
            const RsaPrivateKey uploaded = _pendingUpload;
            _pendingUpload = RsaPrivateKey();
            if (!ok) {
                // Upstream keeps the old key; the next denials ask again.
                fail(Error::UploadFailed, uploadError);
                return;
            }
            if (adopt(uploaded)) {
                ++_regenerations;
                _sinceUpload.start();
                Q_EMIT newKeypair(_key);
            }
        });
        _api->uploadPublicKey(key.publicKey().toPkcs1Der());
        return;
    }
    _generating = false;
    if (!adopt(key)) {
        return;
    }
    ++_regenerations;
    _awaitingOperator = true;
    qCWarning(domain_server).noquote()
        << "made a new domain keypair because the ice-server denied the old one; no metaverse URL is configured,"
        << "so copy" << publicKeyPath() << "into the ice-server's key directory as"
        << _domainID.toString(QUuid::WithoutBraces) + QStringLiteral(".pem");
    Q_EMIT newKeypair(_key);
}

void DomainKeyManager::keyAccepted() {
    _awaitingOperator = false;
}

bool DomainKeyManager::adopt(const RsaPrivateKey &key) {
    QString why;
    if (!key.saveToFile(_keypairPath, &why)) {
        fail(Error::WriteFailed, QStringLiteral("cannot write keypair %1: %2").arg(_keypairPath, why));
        return false;
    }
    _key = key;
    return writePublicKey(key);
}

bool DomainKeyManager::writePublicKey(const RsaPrivateKey &key) {
    QSaveFile file(publicKeyPath());
    if (!file.open(QIODevice::WriteOnly) || file.write(key.publicKey().toPem()) < 0 || !file.commit()) {
        fail(Error::WriteFailed,
             QStringLiteral("cannot write public key %1: %2").arg(publicKeyPath(), file.errorString()));
        return false;
    }
    qCInfo(domain_server).noquote() << "public key of domain" << _domainID.toString(QUuid::WithoutBraces)
                                    << "written to" << publicKeyPath();
    return true;
}

void DomainKeyManager::fail(Error error, const QString &text) {
    _error = error;
    _errorString = text;
    qCWarning(domain_server).noquote() << text;
    Q_EMIT errorOccurred(error, text);
}

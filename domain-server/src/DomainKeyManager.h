// The domain's signing keypair: loaded from its file (or created there, mode 0600), and replaced
// when the ice-server keeps denying it (docs/protocol.md 4.5). A new key is generated off the main thread,
// one at a time. With a metaverse it is uploaded first and adopted only once accepted, as upstream;
// without one it is adopted at once and its public key written next to the keypair as
// <domain-id>.pub, for the operator to copy into the ice-server's key directory.
#pragma once

#include <RsaPrivateKey.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QUuid>

class MetaverseApi;
class QThread;

class DomainKeyManager : public QObject {
    Q_OBJECT
public:
    enum class Error { NoError, UnreadableKeypair, WriteFailed, GenerationFailed, UploadFailed };
    Q_ENUM(Error)

    static constexpr int KeyBits = 2048;
    // After a key was uploaded, further regeneration requests are ignored this long: the ice-server
    // may still hold the old key (ours re-fetches at most once a minute after a failed verify), and
    // a new key every four Denied would race its re-fetch forever.
    static constexpr int DefaultRegenerationHoldOffMs = 90 * 1000;

    DomainKeyManager(const QUuid &domainID, const QString &keypairPath, QObject *parent = nullptr);
    ~DomainKeyManager() override;

    // Not owned. With an API, new keys are uploaded before they are used.
    void setMetaverseApi(MetaverseApi *api) { _api = api; }
    void setRegenerationHoldOffMs(int ms) { _holdOffMs = ms; }

    // Reads the keypair file, or creates it (0600) with its <domain-id>.pub beside it when it does
    // not exist. *created says which. False with error() / errorString() when the file exists but
    // is not a private key, or cannot be written.
    bool loadOrCreate(bool *created = nullptr);

    RsaPrivateKey privateKey() const { return _key; }
    QString keypairPath() const { return _keypairPath; }
    // <keypair dir>/<domain-id>.pub: the SPKI PEM an ice-server's key directory takes.
    QString publicKeyPath() const;
    bool isGenerating() const { return _generating; }
    // Keys made since start (not counting the one created by loadOrCreate()).
    int regenerationCount() const { return _regenerations; }
    Error error() const { return _error; }
    QString errorString() const { return _errorString; }

public Q_SLOTS:
    // Overte's generateNewDomainKeypair: starts a generation unless one is running. With a
    // metaverse it does nothing within the hold-off after an upload; without one it does nothing
    // while an earlier new key still waits for the operator (see keyAccepted()): churning keys
    // would only undo what the ice-server is fetching or the operator is copying.
    void generateNewDomainKeypair();
    // The ice-server accepted our current key (a heartbeat ACK).
    void keyAccepted();

Q_SIGNALS:
    void newKeypair(const RsaPrivateKey &key);
    void errorOccurred(DomainKeyManager::Error error, const QString &errorString);

private:
    void handleGenerated(const RsaPrivateKey &key, const QString &why);
    bool adopt(const RsaPrivateKey &key);
    bool writePublicKey(const RsaPrivateKey &key);
    void fail(Error error, const QString &text);

    QUuid _domainID;
    QString _keypairPath;
    QPointer<MetaverseApi> _api;
    RsaPrivateKey _key;
    RsaPrivateKey _pendingUpload;
    QPointer<QThread> _thread;
    bool _generating = false;
    bool _awaitingOperator = false;
    int _holdOffMs = DefaultRegenerationHoldOffMs;
    QElapsedTimer _sinceUpload;
    bool _holdOffLogged = false;
    int _regenerations = 0;
    Error _error = Error::NoError;
    QString _errorString;
};

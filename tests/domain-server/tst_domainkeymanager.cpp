// DomainKeyManager and MetaverseApi: the keypair file (0600, created when missing, its public key
// beside it), regeneration off the main thread, the PUT upload (docs/protocol.md 4.5, 5.2, 5.3), and the
// whole loop with IceHeartbeater: four Denied lead to a heartbeat signed with a new key.
#include "DomainTestUtil.h"

#include <FakeMetaverse.h>

#include <CryptoBackend.h>
#include <DomainKeyManager.h>
#include <IceHeartbeater.h>
#include <MetaverseApi.h>

#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>

class tst_DomainKeyManager : public QObject {
    Q_OBJECT

    const QUuid domainID = samples::domainID();

    static RsaPublicKey publicKeyFile(const QString &path) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            return {};
        }
        const QByteArray pem = file.readAll();
        return pem.startsWith("-----BEGIN PUBLIC KEY-----") ? RsaPublicKey::fromData(pem) : RsaPublicKey();
    }

private Q_SLOTS:
    void createsKeypairFileOwnerOnlyWithPublicKeyBeside() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("domain.key"));
        DomainKeyManager keys(domainID, path);
        bool created = false;
        QVERIFY(keys.loadOrCreate(&created));
        QVERIFY(created);
        QVERIFY(!keys.privateKey().isNull());
        QCOMPARE(keys.privateKey().bits(), 2048);
        QCOMPARE(QFileInfo(path).permissions()
                     & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther),
                 QFile::Permissions());
        QCOMPARE(keys.publicKeyPath(), dir.filePath(QStringLiteral("6ba7b810-9dad-11d1-80b4-00c04fd430c8.pub")));
        QCOMPARE(publicKeyFile(keys.publicKeyPath()), keys.privateKey().publicKey());

        DomainKeyManager again(domainID, path);
        QVERIFY(again.loadOrCreate(&created));
        QVERIFY(!created);
        QCOMPARE(again.privateKey(), keys.privateKey());
    }

    void unreadableKeypairIsAnError() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("domain.key"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("not a key");
        file.close();
        DomainKeyManager keys(domainID, path);
        QSignalSpy errors(&keys, &DomainKeyManager::errorOccurred);
        QVERIFY(!keys.loadOrCreate());
        QCOMPARE(keys.error(), DomainKeyManager::Error::UnreadableKeypair);
        QVERIFY(keys.errorString().contains(path));
        QCOMPARE(errors.size(), 1);
        QFile check(path);
        QVERIFY(check.open(QIODevice::ReadOnly));
        QCOMPARE(check.readAll(), QByteArray("not a key")); // never overwritten
    }

    void regeneratesOffTheMainThreadOneAtATime() {
        QTemporaryDir dir;
        DomainKeyManager keys(domainID, dir.filePath(QStringLiteral("domain.key")));
        QVERIFY(keys.loadOrCreate());
        const RsaPrivateKey old = keys.privateKey();
        QSignalSpy newKeys(&keys, &DomainKeyManager::newKeypair);
        keys.generateNewDomainKeypair();
        QVERIFY(keys.isGenerating());
        keys.generateNewDomainKeypair(); // already running: no second generation
        keys.generateNewDomainKeypair();
        QTRY_COMPARE_WITH_TIMEOUT(newKeys.size(), 1, 30000);
        QVERIFY(!keys.isGenerating());
        QCOMPARE(keys.regenerationCount(), 1);
        const RsaPrivateKey fresh = newKeys.first().first().value<RsaPrivateKey>();
        QVERIFY(fresh != old);
        QCOMPARE(keys.privateKey(), fresh);
        QCOMPARE(RsaPrivateKey::loadFromFile(keys.keypairPath()), fresh);
        QCOMPARE(publicKeyFile(keys.publicKeyPath()), fresh.publicKey());

        // Without a metaverse the operator must install the new key: no churn until it is accepted.
        keys.generateNewDomainKeypair();
        QVERIFY(!keys.isGenerating());
        keys.keyAccepted();
        keys.generateNewDomainKeypair();
        QVERIFY(keys.isGenerating());
        QTRY_COMPARE_WITH_TIMEOUT(newKeys.size(), 2, 30000);
    }

    void uploadsNewKeyBeforeUsingIt() {
        FakeMetaverse metaverse;
        QVERIFY(metaverse.listen());
        QTemporaryDir dir;
        MetaverseApi api(metaverse.url(), domainID);
        DomainKeyManager keys(domainID, dir.filePath(QStringLiteral("domain.key")));
        keys.setMetaverseApi(&api);
        QVERIFY(keys.loadOrCreate());
        const RsaPrivateKey old = keys.privateKey();
        QSignalSpy newKeys(&keys, &DomainKeyManager::newKeypair);
        QSignalSpy uploaded(&metaverse, &FakeMetaverse::publicKeyUploaded);

        keys.generateNewDomainKeypair();
        QTRY_COMPARE_WITH_TIMEOUT(newKeys.size(), 1, 30000);
        QCOMPARE(uploaded.size(), 1);
        QCOMPARE(uploaded.first().first().toUuid(), domainID);
        QCOMPARE(metaverse.key(domainID), keys.privateKey().publicKey());
        QVERIFY(keys.privateKey() != old);
        // Protocol 5.2: multipart/form-data, "public_key" holds PKCS#1 DER, "api_key" is present.
        QVERIFY(metaverse.lastUploadContentType().startsWith("multipart/form-data"));
        QCOMPARE(
            FakeMetaverse::multipartField(metaverse.lastUploadContentType(), metaverse.lastUploadBody(), "public_key"),
            keys.privateKey().publicKey().toPkcs1Der());
        QVERIFY(metaverse.lastUploadBody().contains("name=\"api_key\""));
        QVERIFY(metaverse.lastUploadBody().contains("filename=\"public_key\""));

        // Right after an upload the ice-server may still hold the old key: no new key yet.
        keys.generateNewDomainKeypair();
        QVERIFY(!keys.isGenerating());
        keys.setRegenerationHoldOffMs(0);
        keys.generateNewDomainKeypair();
        QVERIFY(keys.isGenerating());
        QTRY_COMPARE_WITH_TIMEOUT(newKeys.size(), 2, 30000);
        QCOMPARE(metaverse.keyUploads(), 2);
    }

    void failedUploadKeepsTheOldKey() {
        FakeMetaverse metaverse;
        QVERIFY(metaverse.listen());
        metaverse.setFailUploads(true);
        QTemporaryDir dir;
        MetaverseApi api(metaverse.url(), domainID);
        DomainKeyManager keys(domainID, dir.filePath(QStringLiteral("domain.key")));
        keys.setMetaverseApi(&api);
        QVERIFY(keys.loadOrCreate());
        const RsaPrivateKey old = keys.privateKey();
        QSignalSpy errors(&keys, &DomainKeyManager::errorOccurred);
        QSignalSpy newKeys(&keys, &DomainKeyManager::newKeypair);
        keys.generateNewDomainKeypair();
        QTRY_COMPARE_WITH_TIMEOUT(errors.size(), 1, 30000);
        QCOMPARE(keys.error(), DomainKeyManager::Error::UploadFailed);
        QCOMPARE(newKeys.size(), 0);
        QCOMPARE(keys.privateKey(), old);
        QCOMPARE(RsaPrivateKey::loadFromFile(keys.keypairPath()), old);
        QVERIFY(!keys.isGenerating()); // the next denials may ask again
    }

    void publishesIceServerAddressLatestWins() {
        FakeMetaverse metaverse;
        QVERIFY(metaverse.listen());
        MetaverseApi api(metaverse.url(), domainID);
        QSignalSpy updated(&api, &MetaverseApi::iceServerAddressUpdated);
        api.updateIceServerAddress(QStringLiteral("192.0.2.1"));
        api.updateIceServerAddress(QStringLiteral("0.0.0.0"));   // queued behind the first
        api.updateIceServerAddress(QStringLiteral("192.0.2.2")); // replaces the queued one
        QTRY_COMPARE_WITH_TIMEOUT(api.lastPublishedIceServerAddress(), QStringLiteral("192.0.2.2"), 10000);
        QCOMPARE(metaverse.iceServerAddress(domainID), QStringLiteral("192.0.2.2"));
        QCOMPARE(updated.size(), 2);
    }

    void fourDenialsLeadToAHeartbeatSignedWithANewKey() {
        QTemporaryDir dir;
        FakeNetwork net;
        const SockAddr iceServer = samples::iceServer();
        DomainKeyManager keys(domainID, dir.filePath(QStringLiteral("domain.key")));
        QVERIFY(keys.loadOrCreate());
        const RsaPrivateKey old = keys.privateKey();
        IceHeartbeater hb(domainID, &net.sender, &net.receiver);
        connect(&hb, &IceHeartbeater::keypairRegenerationNeeded, &keys, &DomainKeyManager::generateNewDomainKeypair);
        connect(&keys, &DomainKeyManager::newKeypair, &hb, &IceHeartbeater::setPrivateKey);
        hb.setPrivateKey(old);
        hb.setSockets(samples::domainPublic(), samples::domainLocal());
        hb.setIceServer(iceServer);
        hb.start(3600 * 1000);

        QThread *mainThread = QThread::currentThread();
        for (int i = 0; i < 4; ++i) {
            net.inject(PacketType::ICEServerHeartbeatDenied, {}, iceServer);
        }
        QVERIFY(keys.isGenerating());
        QCOMPARE(QThread::currentThread(), mainThread);
        const int before = net.sentOfType(PacketType::ICEServerHeartbeat).size();
        QTRY_VERIFY_WITH_TIMEOUT(net.sentOfType(PacketType::ICEServerHeartbeat).size() > before, 30000);
        const auto last = net.sentOfType(PacketType::ICEServerHeartbeat).last();
        const auto heartbeat = IceServerHeartbeat::fromPayload(last.first.payload);
        QVERIFY(heartbeat.ok());
        QVERIFY(keys.privateKey() != old);
        QVERIFY(CryptoBackend::defaultBackend()->verify(keys.privateKey().publicKey(), heartbeat.value.plaintext,
                                                        heartbeat.value.signature));
        QVERIFY(!CryptoBackend::defaultBackend()->verify(old.publicKey(), heartbeat.value.plaintext,
                                                         heartbeat.value.signature));
    }
};

QTEST_GUILESS_MAIN(tst_DomainKeyManager)
#include "tst_domainkeymanager.moc"

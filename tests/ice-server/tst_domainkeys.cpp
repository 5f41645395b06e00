// Where keys come from: the key directory (changes at run time) and the metaverse key API with
// every way it can fail, plus the bounds that keep a flood of random domain IDs from turning into
// a flood of HTTP requests (quirk Q7).
#include "IceTestSupport.h"

#include <DomainKeyStore.h>
#include <IceServerStats.h>

#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using namespace icetest;
using Outcome = MetaverseKeyFetcher::Outcome;

namespace {
QString idText(const QUuid &id) {
    return id.toString(QUuid::WithoutBraces);
}

struct Fetching {
    explicit Fetching(const QUrl &url, KeyFetchSettings settings = {}) {
        settings.metaverseUrl = url;
        fetcher.reset(new MetaverseKeyFetcher(settings));
        store.reset(new DomainKeyStore(nullptr, fetcher.data(), settings));
    }
    QScopedPointer<MetaverseKeyFetcher> fetcher;
    QScopedPointer<DomainKeyStore> store;
};
} // namespace

class tst_DomainKeys : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        testKey(0);
        testKey(1);
    }

    void directoryAddChangeRemove() {
        QTemporaryDir dir;
        KeyDirectory directory(dir.path() + "/keys", 0); // the watcher alone must do it
        QVERIFY(directory.start());
        QVERIFY(QDir(dir.path() + "/keys").exists());
        QSignalSpy changes(&directory, &KeyDirectory::keyChanged);
        const QUuid pem = QUuid::createUuid(), der = QUuid::createUuid(), bare = QUuid::createUuid();
        const QString keys = dir.path() + "/keys/";

        QVERIFY(writeFile(keys + idText(pem) + ".pem", testKey(0).publicKey().toPem()));
        QVERIFY(writeFile(keys + idText(der) + ".der", testKey(0).publicKey().toPkcs1Der()));
        QVERIFY(writeFile(keys + idText(bare), testKey(1).publicKey().toBase64()));
        QVERIFY(writeFile(keys + "README.txt", "not a key"));
        QVERIFY(writeFile(keys + idText(QUuid::createUuid()) + ".pem", "garbage"));
        QTRY_COMPARE(directory.size(), 3);
        QCOMPARE(directory.find(pem)->key, testKey(0).publicKey());
        QCOMPARE(directory.find(der)->key, testKey(0).publicKey());
        QCOMPARE(directory.find(bare)->key, testKey(1).publicKey());

        // Changed: a new serial, so cached verifications of the old key do not count any more.
        const quint64 serial = directory.find(pem)->serial;
        changes.clear();
        QVERIFY(writeFile(keys + idText(pem) + ".pem", testKey(1).publicKey().toPem() + "\n"));
        QTRY_VERIFY(directory.find(pem) && directory.find(pem)->key == testKey(1).publicKey());
        QVERIFY(directory.find(pem)->serial != serial);
        QTRY_VERIFY(!changes.isEmpty());
        QCOMPARE(changes.last().at(0).value<QUuid>(), pem);
        QCOMPARE(changes.last().at(1).toBool(), true);

        QVERIFY(QFile::remove(keys + idText(der) + ".der"));
        QTRY_VERIFY(!directory.find(der));
        QCOMPARE(directory.size(), 2);
    }

    void fileNames() {
        const QUuid id = QUuid::createUuid();
        QCOMPARE(KeyDirectory::idFromFileName(idText(id)), id);
        QCOMPARE(KeyDirectory::idFromFileName(idText(id) + ".PUB"), id);
        QCOMPARE(KeyDirectory::idFromFileName(id.toString() + ".pem"), id);
        QVERIFY(KeyDirectory::idFromFileName(idText(id) + ".pem.bak").isNull());
        QVERIFY(KeyDirectory::idFromFileName("keys.pem").isNull());
    }

    void metaverse_data() {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("hang");
        QTest::addColumn<Outcome>("outcome");
        const RsaPublicKey key = testKey(0).publicKey();
        QTest::newRow("SPKI base64") << 200 << FakeMetaverse::successBody(key.toBase64()) << false << Outcome::Ok;
        QTest::newRow("PKCS#1 base64") << 200 << FakeMetaverse::successBody(key.toPkcs1Der().toBase64()) << false
                                       << Outcome::Ok;
        QTest::newRow("404") << 404 << QByteArray("{\"status\":\"fail\"}") << false << Outcome::NotFound;
        QTest::newRow("401 no domain") << 401 << QByteArray("{\"status\":\"fail\",\"error\":\"No domain\"}") << false
                                       << Outcome::NotFound;
        QTest::newRow("500") << 500 << QByteArray("oops") << false << Outcome::HttpError;
        QTest::newRow("garbage JSON") << 200 << QByteArray("{\"status\":\"succ") << false << Outcome::BadJson;
        QTest::newRow("no key in JSON") << 200 << QByteArray("{\"status\":\"success\",\"data\":{}}") << false
                                        << Outcome::BadJson;
        QTest::newRow("not a key") << 200 << FakeMetaverse::successBody("AAAA") << false << Outcome::BadKey;
        QTest::newRow("slow past timeout") << 200 << QByteArray() << true << Outcome::Timeout;
    }
    void metaverse() {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(bool, hang);
        QFETCH(Outcome, outcome);
        FakeMetaverse api;
        api.fallback = { status, body, hang };
        KeyFetchSettings settings;
        settings.timeoutMs = 300;
        Fetching f(api.url(), settings);
        QSignalSpy finished(f.fetcher.data(), &MetaverseKeyFetcher::finished);
        const QUuid id = QUuid::createUuid();

        QCOMPARE(f.store->lookup(id, monotonicMs()).state, DomainKeyStore::Lookup::Pending);
        QCOMPARE(f.store->lookup(id, monotonicMs()).state, DomainKeyStore::Lookup::Pending); // no second GET
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(finished[0][1].value<Outcome>(), outcome);
        QCOMPARE(api.requests, 1);
        QCOMPARE(api.paths[0], "/server/api/v1/domains/" + idText(id) + "/public_key"); // one slash (Q12)

        const DomainKeyStore::Lookup after = f.store->lookup(id, monotonicMs());
        if (outcome == Outcome::Ok) {
            QCOMPARE(after.state, DomainKeyStore::Lookup::Known);
            QCOMPARE(after.key, testKey(0).publicKey());
        } else {
            QCOMPARE(after.state, DomainKeyStore::Lookup::Unknown); // negatively cached: no new GET
            QCOMPARE(f.store->counters().negativeHits, quint64(1));
        }
        QCOMPARE(f.fetcher->counters().started, quint64(1));
    }

    void metaverseDown() {
        quint16 closedPort;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            closedPort = probe.serverPort();
        }
        Fetching f(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(closedPort)));
        QSignalSpy finished(f.fetcher.data(), &MetaverseKeyFetcher::finished);
        f.store->lookup(QUuid::createUuid(), monotonicMs());
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(finished[0][1].value<Outcome>(), Outcome::NetworkError);
    }

    void floodOfRandomIdsIsBounded() {
        FakeMetaverse api;
        api.fallback.hang = true;
        KeyFetchSettings settings;
        settings.maxInFlight = 2;
        settings.maxPerSecond = 100;
        Fetching f(api.url(), settings);
        for (int i = 0; i < 50; ++i) {
            f.store->lookup(QUuid::createUuid(), monotonicMs());
        }
        QCOMPARE(f.fetcher->counters().started, quint64(2));
        QCOMPARE(f.fetcher->counters().refusedInFlight, quint64(48));
        QTRY_COMPARE(api.requests, 2);

        FakeMetaverse fast; // answers 404 at once; now the per-second bound is what holds
        KeyFetchSettings perSecond;
        perSecond.maxInFlight = 100;
        perSecond.maxPerSecond = 3;
        Fetching g(fast.url(), perSecond);
        QSignalSpy finished(g.fetcher.data(), &MetaverseKeyFetcher::finished);
        QList<QUuid> ids;
        const qint64 now = monotonicMs();
        for (int i = 0; i < 50; ++i) {
            ids.append(QUuid::createUuid());
            g.store->lookup(ids.last(), now);
        }
        QCOMPARE(g.fetcher->counters().started, quint64(3));
        QCOMPARE(g.fetcher->counters().refusedRate, quint64(47));
        QTRY_COMPARE(finished.count(), 3);
        QCOMPARE(fast.requests, 3);
        // The three that got a 404 are cached negatively: asking again costs no GET, even later.
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(g.store->lookup(ids[i], now + 10000).state, DomainKeyStore::Lookup::Unknown);
        }
        QCOMPARE(g.fetcher->counters().started, quint64(3));
        QCOMPARE(g.store->counters().negativeHits, quint64(3));
    }

    void fetchedKeyOutlivesSilenceAndRefreshes() {
        FakeMetaverse api;
        api.fallback = { 200, FakeMetaverse::successBody(testKey(0).publicKey().toBase64()), false };
        KeyFetchSettings settings;
        settings.keyTtlMs = 60000;
        settings.refetchAfterFailedVerifyMs = 30000;
        Fetching f(api.url(), settings);
        QSignalSpy finished(f.fetcher.data(), &MetaverseKeyFetcher::finished);
        const QUuid id = QUuid::createUuid();
        f.store->lookup(id, monotonicMs());
        QTRY_COMPARE(finished.count(), 1);
        const qint64 now = monotonicMs();
        const DomainKeyStore::Lookup known = f.store->lookup(id, now + 30000);
        QCOMPARE(known.state, DomainKeyStore::Lookup::Known);

        // A failed verify re-fetches, but at most once per interval.
        api.fallback.body = FakeMetaverse::successBody(testKey(1).publicKey().toBase64());
        f.store->verifyFailed(id, now + 30000);
        f.store->verifyFailed(id, now + 30001);
        QCOMPARE(f.fetcher->counters().started, quint64(2));
        QTRY_COMPARE(finished.count(), 2);
        const DomainKeyStore::Lookup renewed = f.store->lookup(id, monotonicMs());
        QCOMPARE(renewed.key, testKey(1).publicKey());
        QVERIFY(renewed.serial != known.serial);
        f.store->verifyFailed(id, monotonicMs() + 1000);
        QCOMPARE(f.fetcher->counters().started, quint64(2));

        // Past its lifetime the key is still used while a refresh runs (no Denied for a live domain).
        const DomainKeyStore::Lookup stale = f.store->lookup(id, monotonicMs() + 61000);
        QCOMPARE(stale.state, DomainKeyStore::Lookup::Known);
        QCOMPARE(f.fetcher->counters().started, quint64(3));
        QTRY_COMPARE(finished.count(), 3);
    }

    void directoryKeyWinsOverMetaverse() {
        QTemporaryDir dir;
        KeyDirectory directory(dir.path(), 0);
        QVERIFY(directory.start());
        const QUuid id = QUuid::createUuid();
        QVERIFY(writeFile(dir.filePath(idText(id) + ".pem"), testKey(0).publicKey().toPem()));
        directory.rescan();
        FakeMetaverse api;
        KeyFetchSettings settings;
        settings.metaverseUrl = api.url();
        MetaverseKeyFetcher fetcher(settings);
        DomainKeyStore store(&directory, &fetcher, settings);
        const DomainKeyStore::Lookup lookup = store.lookup(id, monotonicMs());
        QCOMPARE(lookup.state, DomainKeyStore::Lookup::Known);
        QCOMPARE(lookup.key, testKey(0).publicKey());
        QCOMPARE(fetcher.counters().started, quint64(0));
    }
};

QTEST_GUILESS_MAIN(tst_DomainKeys)
#include "tst_domainkeys.moc"

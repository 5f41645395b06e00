// CryptoBackend: RSASSA-PKCS1-v1_5/SHA-256 sign and verify for every backend the build has, tamper and
// wrong-key rejection, failures that never produce a zeroed signature (quirk Q9), cross-backend
// agreement and concurrent verification of one shared key.
#include <CryptoBackend.h>
#include <RsaPrivateKey.h>
#include <RsaPublicKey.h>

#include <QtTest>

#include <atomic>
#include <thread>
#include <vector>

Q_DECLARE_METATYPE(CryptoBackend *)

class tst_CryptoBackend : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void backendList();

    void signVerifyRoundTrip_data() { addBackendRows(); }
    void signVerifyRoundTrip();
    void flippedDataByteFails_data();
    void flippedDataByteFails();
    void flippedSignatureByteFails_data();
    void flippedSignatureByteFails();
    void malformedSignatureFails_data() { addBackendRows(); }
    void malformedSignatureFails();
    void wrongKeyFails_data() { addBackendRows(); }
    void wrongKeyFails();
    void failedSignIsEmptyWithError_data() { addBackendRows(); }
    void failedSignIsEmptyWithError();
    void concurrentVerify_data() { addBackendRows(); }
    void concurrentVerify();

    void crossBackend();

private:
    void addBackendRows();

    RsaPrivateKey m_key;
    RsaPrivateKey m_otherKey;
    // The 30 signed bytes of the protocol document's heartbeat example (section 2.5).
    const QByteArray m_plaintext = QByteArray::fromHex("6ba7b8109dad11d180b400c04fd430c8"
                                                       "00c63364079ca6"
                                                       "000a0000029ca6");
};

void tst_CryptoBackend::initTestCase() {
    QCOMPARE(m_plaintext.size(), 30);
    QString error;
    m_key = RsaPrivateKey::generate(2048, &error);
    QVERIFY2(!m_key.isNull(), qPrintable(error));
    m_otherKey = RsaPrivateKey::generate(2048, &error);
    QVERIFY2(!m_otherKey.isNull(), qPrintable(error));
}

void tst_CryptoBackend::addBackendRows() {
    QTest::addColumn<CryptoBackend *>("backend");
    for (CryptoBackend *backend : CryptoBackend::all())
        QTest::newRow(qPrintable(backend->name())) << backend;
}

void tst_CryptoBackend::backendList() {
    const QList<CryptoBackend *> all = CryptoBackend::all();
    QVERIFY(CryptoBackend::openSsl());
    QCOMPARE(CryptoBackend::openSsl()->name(), QStringLiteral("OpenSSL"));
    QVERIFY(all.contains(CryptoBackend::openSsl()));
    QVERIFY(all.contains(CryptoBackend::defaultBackend()));
#ifdef ICEBREAKER_HAVE_QCA
    QVERIFY(CryptoBackend::qca());
    QCOMPARE(CryptoBackend::qca()->name(), QStringLiteral("QCA"));
    QCOMPARE(all.size(), 2);
#else
    QVERIFY(!CryptoBackend::qca());
    QCOMPARE(all.size(), 1);
    QCOMPARE(CryptoBackend::defaultBackend(), CryptoBackend::openSsl());
#endif
}

void tst_CryptoBackend::signVerifyRoundTrip() {
    QFETCH(CryptoBackend *, backend);
    QString error;
    const QByteArray signature = backend->sign(m_key, m_plaintext, &error);
    QVERIFY2(!signature.isEmpty(), qPrintable(error));
    QVERIFY(error.isEmpty());
    QCOMPARE(signature.size(), 256);
    QVERIFY(backend->verify(m_key.publicKey(), m_plaintext, signature));
    // PKCS#1 v1.5 is deterministic: same key and data, same bytes.
    QCOMPARE(backend->sign(m_key, m_plaintext), signature);

    const QByteArray emptySignature = backend->sign(m_key, QByteArray(), &error);
    QCOMPARE(emptySignature.size(), 256);
    QVERIFY(backend->verify(m_key.publicKey(), QByteArray(), emptySignature));
    QVERIFY(!backend->verify(m_key.publicKey(), m_plaintext, emptySignature));
}

void tst_CryptoBackend::flippedDataByteFails_data() {
    QTest::addColumn<CryptoBackend *>("backend");
    QTest::addColumn<int>("position");
    for (CryptoBackend *backend : CryptoBackend::all()) {
        for (int position : { 0, 15, 16, 29 })
            QTest::addRow("%s, byte %d", qPrintable(backend->name()), position) << backend << position;
    }
}

void tst_CryptoBackend::flippedDataByteFails() {
    QFETCH(CryptoBackend *, backend);
    QFETCH(int, position);
    const QByteArray signature = backend->sign(m_key, m_plaintext);
    QVERIFY(backend->verify(m_key.publicKey(), m_plaintext, signature));
    QByteArray tampered = m_plaintext;
    tampered[position] = char(tampered.at(position) ^ 0x01);
    QVERIFY(!backend->verify(m_key.publicKey(), tampered, signature));
}

void tst_CryptoBackend::flippedSignatureByteFails_data() {
    QTest::addColumn<CryptoBackend *>("backend");
    QTest::addColumn<int>("position");
    for (CryptoBackend *backend : CryptoBackend::all()) {
        for (int position : { 0, 1, 128, 255 })
            QTest::addRow("%s, byte %d", qPrintable(backend->name()), position) << backend << position;
    }
}

void tst_CryptoBackend::flippedSignatureByteFails() {
    QFETCH(CryptoBackend *, backend);
    QFETCH(int, position);
    QByteArray signature = backend->sign(m_key, m_plaintext);
    QCOMPARE(signature.size(), 256);
    signature[position] = char(signature.at(position) ^ 0x80);
    QVERIFY(!backend->verify(m_key.publicKey(), m_plaintext, signature));
}

void tst_CryptoBackend::malformedSignatureFails() {
    QFETCH(CryptoBackend *, backend);
    const RsaPublicKey publicKey = m_key.publicKey();
    const QByteArray signature = backend->sign(m_key, m_plaintext);
    QVERIFY(!backend->verify(publicKey, m_plaintext, QByteArray()));
    QVERIFY(!backend->verify(publicKey, m_plaintext, QByteArray(256, '\0'))); // what Overte sends on Q9
    QVERIFY(!backend->verify(publicKey, m_plaintext, signature.left(255)));
    QVERIFY(!backend->verify(publicKey, m_plaintext, signature + '\0'));
    QVERIFY(!backend->verify(RsaPublicKey(), m_plaintext, signature));
    QVERIFY(backend->verify(publicKey, m_plaintext, signature)); // the key still works afterwards
}

void tst_CryptoBackend::wrongKeyFails() {
    QFETCH(CryptoBackend *, backend);
    const QByteArray signature = backend->sign(m_key, m_plaintext);
    QVERIFY(backend->verify(m_key.publicKey(), m_plaintext, signature));
    QVERIFY(!backend->verify(m_otherKey.publicKey(), m_plaintext, signature));
    QVERIFY(backend->sign(m_otherKey, m_plaintext) != signature);
}

void tst_CryptoBackend::failedSignIsEmptyWithError() {
    QFETCH(CryptoBackend *, backend);
    QString error;
    const QByteArray signature = backend->sign(RsaPrivateKey(), m_plaintext, &error);
    QVERIFY(signature.isEmpty());
    QVERIFY(signature != QByteArray(256, '\0'));
    QVERIFY2(error.contains(QLatin1String("null")), qPrintable(error));
    QVERIFY(error.contains(backend->name()));
    QVERIFY(backend->sign(RsaPrivateKey(), m_plaintext).isEmpty()); // the error pointer is optional
}

void tst_CryptoBackend::concurrentVerify() {
    QFETCH(CryptoBackend *, backend);
    // A fresh key, so the threads also race to fill its parsed-handle cache.
    const RsaPrivateKey key = RsaPrivateKey::fromData(m_key.toPkcs1Der());
    const RsaPublicKey publicKey = RsaPublicKey::fromData(key.publicKey().toSubjectPublicKeyInfoDer());
    const QByteArray signature = backend->sign(key, m_plaintext);
    QByteArray badSignature = signature;
    badSignature[7] = char(badSignature.at(7) ^ 0x10);

    constexpr int threadCount = 6;
    constexpr int rounds = 40;
    std::atomic<int> good { 0 };
    std::atomic<int> wrong { 0 };
    std::vector<std::thread> threads;
    for (int t = 0; t < threadCount; ++t) {
        threads.emplace_back([&, t] {
            const RsaPublicKey copy = publicKey; // copies share the parsed handle
            for (int i = 0; i < rounds; ++i) {
                const bool bad = (i + t) % 5 == 0;
                const bool valid = backend->verify(copy, m_plaintext, bad ? badSignature : signature);
                (valid == !bad ? good : wrong)++;
            }
        });
    }
    for (std::thread &thread : threads)
        thread.join();
    QCOMPARE(wrong.load(), 0);
    QCOMPARE(good.load(), threadCount * rounds);
}

void tst_CryptoBackend::crossBackend() {
    const QList<CryptoBackend *> backends = CryptoBackend::all();
    QByteArray reference;
    for (CryptoBackend *signer : backends) {
        QString error;
        const QByteArray signature = signer->sign(m_key, m_plaintext, &error);
        QVERIFY2(signature.size() == 256, qPrintable(signer->name() + QLatin1String(": ") + error));
        // Deterministic padding: every backend must produce exactly the same bytes.
        if (reference.isEmpty())
            reference = signature;
        QCOMPARE(signature, reference);
        for (CryptoBackend *verifier : backends) {
            QVERIFY2(verifier->verify(m_key.publicKey(), m_plaintext, signature),
                     qPrintable(signer->name() + QLatin1String(" -> ") + verifier->name()));
            QVERIFY(!verifier->verify(m_otherKey.publicKey(), m_plaintext, signature));
        }
    }
    if (backends.size() < 2)
        QSKIP("only the OpenSSL backend is built (Qt 6); the QCA <-> OpenSSL cross-check runs in the Qt 5 build");
}

QTEST_GUILESS_MAIN(tst_CryptoBackend)
#include "tst_cryptobackend.moc"

// Interop with the openssl CLI, an implementation we did not write: signatures over the protocol
// document's heartbeat plaintext verify in both directions for every backend, and keys move both
// ways between openssl and our key classes.
#include "OpenSslCli.h"

#include <CryptoBackend.h>
#include <RsaPrivateKey.h>
#include <RsaPublicKey.h>

#include <QTemporaryDir>
#include <QtTest>

Q_DECLARE_METATYPE(CryptoBackend *)

class tst_CryptoInterop : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void opensslSignsWeVerify_data() { addBackendRows(); }
    void opensslSignsWeVerify();
    void weSignOpensslVerifies_data() { addBackendRows(); }
    void weSignOpensslVerifies();
    void opensslKeysImport();
    void ourKeysExportToOpenssl();

private:
    void addBackendRows();
    QString path(const QString &name) const { return m_dir.filePath(name); }
    OpenSslCliResult openssl(const QStringList &arguments) { return runOpenSsl(arguments, m_dir.path()); }

    QTemporaryDir m_dir;
    // The 30 signed bytes of the heartbeat example, docs/protocol.md section 2.5: domain ID
    // 6ba7b810-9dad-11d1-80b4-00c04fd430c8, public 198.51.100.7:40102, local 10.0.0.2:40102.
    const QByteArray m_plaintext = QByteArray::fromHex("6ba7b8109dad11d180b400c04fd430c8"
                                                       "00c63364079ca6"
                                                       "000a0000029ca6");
};

void tst_CryptoInterop::addBackendRows() {
    QTest::addColumn<CryptoBackend *>("backend");
    for (CryptoBackend *backend : CryptoBackend::all())
        QTest::newRow(qPrintable(backend->name())) << backend;
}

void tst_CryptoInterop::initTestCase() {
    QVERIFY2(!openSslProgram().isEmpty(), "the openssl CLI is not installed (CI installs it)");
    QVERIFY(m_dir.isValid());
    QCOMPARE(m_plaintext.size(), 30);
    QVERIFY(writeAll(path("plain.bin"), m_plaintext));
    const QStringList steps[] = {
        { "genrsa", "-out", "key.pem", "2048" },
        { "rsa", "-in", "key.pem", "-pubout", "-out", "pub.pem" },
        { "rsa", "-in", "key.pem", "-RSAPublicKey_out", "-out", "rsapub.pem" },
        { "rsa", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der" },
    };
    for (const QStringList &step : steps) {
        const OpenSslCliResult result = openssl(step);
        QVERIFY2(result.ok(), qPrintable(step.join(QLatin1Char(' ')) + QLatin1String(": ") + result.describe()));
    }
}

void tst_CryptoInterop::opensslSignsWeVerify() {
    QFETCH(CryptoBackend *, backend);
    const OpenSslCliResult signing = openssl({ "dgst", "-sha256", "-sign", "key.pem", "-out", "cli.sig", "plain.bin" });
    QVERIFY2(signing.ok(), signing.describe().constData());
    const QByteArray signature = readAll(path("cli.sig"));
    QCOMPARE(signature.size(), 256);

    for (const QString &file : { QStringLiteral("pub.pem"), QStringLiteral("rsapub.pem") }) {
        QString error;
        const RsaPublicKey key = RsaPublicKey::fromData(readAll(path(file)), &error);
        QVERIFY2(!key.isNull(), qPrintable(file + QLatin1String(": ") + error));
        QVERIFY2(backend->verify(key, m_plaintext, signature), qPrintable(file));
        QByteArray tampered = m_plaintext;
        tampered[20] = char(tampered.at(20) ^ 0x01); // one bit of the public IP
        QVERIFY(!backend->verify(key, tampered, signature));
    }

    // Deterministic padding: our signature with the same key is the same bytes.
    const RsaPrivateKey ours = RsaPrivateKey::loadFromFile(path("key.pem"));
    QVERIFY(!ours.isNull());
    QCOMPARE(backend->sign(ours, m_plaintext), signature);
}

void tst_CryptoInterop::weSignOpensslVerifies() {
    QFETCH(CryptoBackend *, backend);
    QString error;
    const RsaPrivateKey key = RsaPrivateKey::generate(2048, &error);
    QVERIFY2(!key.isNull(), qPrintable(error));
    const QByteArray signature = backend->sign(key, m_plaintext, &error);
    QVERIFY2(signature.size() == 256, qPrintable(error));

    const QString prefix = backend->name().toLower();
    QVERIFY(writeAll(path(prefix + "-pub.pem"), key.publicKey().toPem()));
    QVERIFY(writeAll(path(prefix + ".sig"), signature));
    const OpenSslCliResult good = openssl(
        { "dgst", "-sha256", "-verify", prefix + "-pub.pem", "-signature", prefix + ".sig", "plain.bin" });
    QVERIFY2(good.ok(), good.describe().constData());
    QVERIFY(good.out.contains("Verified OK"));

    QByteArray tampered = signature;
    tampered[100] = char(tampered.at(100) ^ 0x01);
    QVERIFY(writeAll(path(prefix + "-bad.sig"), tampered));
    const OpenSslCliResult bad = openssl(
        { "dgst", "-sha256", "-verify", prefix + "-pub.pem", "-signature", prefix + "-bad.sig", "plain.bin" });
    QVERIFY(!bad.ok());
    QVERIFY(!bad.out.contains("Verified OK"));
}

void tst_CryptoInterop::opensslKeysImport() {
    QString error;
    const RsaPrivateKey privateKey = RsaPrivateKey::loadFromFile(path("key.pem"), &error);
    QVERIFY2(!privateKey.isNull(), qPrintable(error));
    const RsaPublicKey spki = RsaPublicKey::fromData(readAll(path("pub.pem")), &error);
    QVERIFY2(!spki.isNull(), qPrintable(error));
    const RsaPublicKey pkcs1 = RsaPublicKey::fromData(readAll(path("rsapub.pem")), &error);
    QVERIFY2(!pkcs1.isNull(), qPrintable(error));

    QCOMPARE(spki.toSubjectPublicKeyInfoDer(), readAll(path("pub.der")));
    QCOMPARE(pkcs1, spki);
    QCOMPARE(privateKey.publicKey(), spki);
}

void tst_CryptoInterop::ourKeysExportToOpenssl() {
    QString error;
    const RsaPrivateKey key = RsaPrivateKey::generate(2048, &error);
    QVERIFY2(!key.isNull(), qPrintable(error));

    // The saved private key (PKCS#1 PEM) passes openssl's consistency check and signs for us.
    QVERIFY2(key.saveToFile(path("ours.key"), &error), qPrintable(error));
    const OpenSslCliResult check = openssl({ "rsa", "-in", "ours.key", "-check", "-noout" });
    QVERIFY2(check.ok(), check.describe().constData());
    QVERIFY(check.out.contains("RSA key ok"));
    const OpenSslCliResult signing = openssl(
        { "dgst", "-sha256", "-sign", "ours.key", "-out", "ours-cli.sig", "plain.bin" });
    QVERIFY2(signing.ok(), signing.describe().constData());
    QVERIFY(CryptoBackend::defaultBackend()->verify(key.publicKey(), m_plaintext, readAll(path("ours-cli.sig"))));

    // PKCS#8 DER private key.
    QVERIFY(writeAll(path("ours-pkcs8.der"), key.toPkcs8Der()));
    const OpenSslCliResult pkcs8 = openssl(
        { "pkey", "-inform", "DER", "-in", "ours-pkcs8.der", "-pubout", "-outform", "DER" });
    QVERIFY2(pkcs8.ok(), pkcs8.describe().constData());
    QCOMPARE(pkcs8.out, key.publicKey().toSubjectPublicKeyInfoDer());

    // Public key as SPKI PEM and as PKCS#1 DER (what an Overte domain server uploads).
    QVERIFY(writeAll(path("ours-pub.pem"), key.publicKey().toPem()));
    const OpenSslCliResult spki = openssl({ "pkey", "-pubin", "-in", "ours-pub.pem", "-outform", "DER" });
    QVERIFY2(spki.ok(), spki.describe().constData());
    QCOMPARE(spki.out, key.publicKey().toSubjectPublicKeyInfoDer());

    QVERIFY(writeAll(path("ours-pub-pkcs1.der"), key.publicKey().toPkcs1Der()));
    const OpenSslCliResult pkcs1 = openssl(
        { "rsa", "-RSAPublicKey_in", "-inform", "DER", "-in", "ours-pub-pkcs1.der", "-pubout", "-outform", "DER" });
    QVERIFY2(pkcs1.ok(), pkcs1.describe().constData());
    QCOMPARE(pkcs1.out, key.publicKey().toSubjectPublicKeyInfoDer());
}

QTEST_GUILESS_MAIN(tst_CryptoInterop)
#include "tst_cryptointerop.moc"

// RsaPublicKey and RsaPrivateKey: every accepted form imports to the same canonical key, bad input
// is rejected with a reason, and private keys are saved owner-only. Reference encodings come from
// the openssl CLI so the parser is not checked against itself.
#include "OpenSslCli.h"

#include <RsaPrivateKey.h>
#include <RsaPublicKey.h>

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

class tst_CryptoKeys : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void publicKeyImports_data();
    void publicKeyImports();
    void publicKeyRejects_data();
    void publicKeyRejects();
    void publicKeyRoundTrips();
    void nullPublicKey();

    void privateKeyImports_data();
    void privateKeyImports();
    void privateKeyRejects_data();
    void privateKeyRejects();
    void generate();
    void generateRejectsBadSizes_data();
    void generateRejectsBadSizes();

    void saveAndLoad();
    void saveIsOwnerOnlyWhateverTheUmask();
    void saveReplacesWorldReadableFile();
    void loadReportsPath();

private:
    QString path(const QString &name) const { return m_dir.filePath(name); }
    QByteArray openssl(const QStringList &arguments);

    QTemporaryDir m_dir;
    QByteArray m_spkiDer;      // from `openssl rsa -pubout -outform DER`
    QByteArray m_pkcs1Der;     // from `openssl rsa -RSAPublicKey_out -outform DER`
    QByteArray m_privPkcs1Der; // from `openssl rsa -traditional -outform DER`
};

QByteArray tst_CryptoKeys::openssl(const QStringList &arguments) {
    const OpenSslCliResult result = runOpenSsl(arguments, m_dir.path());
    if (!result.ok())
        qWarning("openssl %s failed: %s", qPrintable(arguments.join(QLatin1Char(' '))), result.describe().constData());
    return result.ok() ? result.out : QByteArray();
}

void tst_CryptoKeys::initTestCase() {
    QVERIFY2(!openSslProgram().isEmpty(), "the openssl CLI is not installed (CI installs it)");
    QVERIFY(m_dir.isValid());
    const QStringList steps[] = {
        { "genrsa", "-out", "rsa.pem", "2048" },
        { "rsa", "-in", "rsa.pem", "-pubout", "-outform", "DER", "-out", "spki.der" },
        { "rsa", "-in", "rsa.pem", "-pubout", "-out", "spki.pem" },
        { "rsa", "-in", "rsa.pem", "-RSAPublicKey_out", "-outform", "DER", "-out", "pkcs1.der" },
        { "rsa", "-in", "rsa.pem", "-RSAPublicKey_out", "-out", "pkcs1.pem" },
        { "rsa", "-in", "rsa.pem", "-traditional", "-outform", "DER", "-out", "priv-pkcs1.der" },
        { "rsa", "-in", "rsa.pem", "-traditional", "-out", "priv-pkcs1.pem" },
        { "pkcs8", "-topk8", "-nocrypt", "-in", "rsa.pem", "-outform", "DER", "-out", "priv-pkcs8.der" },
        { "pkcs8", "-topk8", "-in", "rsa.pem", "-passout", "pass:secret", "-out", "priv-encrypted.pem" },
        { "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.pem" },
        { "pkey", "-in", "ec.pem", "-pubout", "-out", "ec-pub.pem" },
        { "pkey", "-in", "ec.pem", "-pubout", "-outform", "DER", "-out", "ec-pub.der" },
        { "genpkey", "-algorithm", "ED25519", "-out", "ed25519.pem" },
        { "pkey", "-in", "ed25519.pem", "-pubout", "-out", "ed25519-pub.pem" },
    };
    for (const QStringList &step : steps) {
        const OpenSslCliResult result = runOpenSsl(step, m_dir.path());
        QVERIFY2(result.ok(), qPrintable(step.join(QLatin1Char(' ')) + QLatin1String(": ") + result.describe()));
    }
    m_spkiDer = readAll(path("spki.der"));
    m_pkcs1Der = readAll(path("pkcs1.der"));
    m_privPkcs1Der = readAll(path("priv-pkcs1.der"));
    QVERIFY(!m_spkiDer.isEmpty() && !m_pkcs1Der.isEmpty() && !m_privPkcs1Der.isEmpty());
    QVERIFY(m_spkiDer != m_pkcs1Der);
}

static QByteArray wrap64(const QByteArray &base64, const QByteArray &newline) {
    QByteArray out;
    for (int i = 0; i < base64.size(); i += 64)
        out += base64.mid(i, 64) + newline;
    return out;
}

void tst_CryptoKeys::publicKeyImports_data() {
    QTest::addColumn<QByteArray>("data");
    const QByteArray spkiPem = readAll(path("spki.pem"));
    const QByteArray pkcs1Pem = readAll(path("pkcs1.pem"));
    QVERIFY(spkiPem.startsWith("-----BEGIN PUBLIC KEY-----"));
    QVERIFY(pkcs1Pem.startsWith("-----BEGIN RSA PUBLIC KEY-----"));

    QTest::newRow("SPKI DER") << m_spkiDer;
    QTest::newRow("PKCS#1 DER") << m_pkcs1Der;
    QTest::newRow("SPKI PEM") << spkiPem;
    QTest::newRow("PKCS#1 PEM") << pkcs1Pem;
    QTest::newRow("SPKI PEM, CRLF, surrounding text")
        << "  \r\nkey follows\r\n" + QByteArray(spkiPem).replace("\n", "\r\n") + "trailer\r\n";
    QTest::newRow("SPKI base64, one line") << m_spkiDer.toBase64();
    QTest::newRow("SPKI base64, 64 columns") << wrap64(m_spkiDer.toBase64(), "\n");
    QTest::newRow("SPKI base64, CRLF and tabs") << "\t" + wrap64(m_spkiDer.toBase64(), "\r\n");
    QTest::newRow("PKCS#1 base64, one line") << m_pkcs1Der.toBase64();
    QTest::newRow("PKCS#1 base64, 64 columns") << wrap64(m_pkcs1Der.toBase64(), "\n");
}

void tst_CryptoKeys::publicKeyImports() {
    QFETCH(QByteArray, data);
    QString error;
    const RsaPublicKey key = RsaPublicKey::fromData(data, &error);
    QVERIFY2(!key.isNull(), qPrintable(error));
    QVERIFY(error.isEmpty());
    QCOMPARE(key.bits(), 2048);
    QCOMPARE(key.toSubjectPublicKeyInfoDer(), m_spkiDer);
    QCOMPARE(key.toPkcs1Der(), m_pkcs1Der);
    QCOMPARE(key.toBase64(), m_spkiDer.toBase64());
    QCOMPARE(key, RsaPublicKey::fromData(m_spkiDer));
}

void tst_CryptoKeys::publicKeyRejects_data() {
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QString>("errorFragment"); // empty: any non-empty error will do

    const QByteArray ecPem = readAll(path("ec-pub.pem"));
    const QByteArray ecDer = readAll(path("ec-pub.der"));
    QVERIFY(!ecPem.isEmpty() && !ecDer.isEmpty());

    QTest::newRow("empty") << QByteArray() << QString();
    QTest::newRow("whitespace") << QByteArray(" \n\t") << QString();
    QTest::newRow("text") << QByteArray("hello, ice-server") << QString();
    QTest::newRow("binary SEQUENCE garbage") << QByteArray::fromHex("3082010a0282010100ff") << QString();
    QTest::newRow("truncated SPKI DER") << m_spkiDer.left(m_spkiDer.size() - 10) << QString();
    QTest::newRow("SPKI DER with a trailing byte") << m_spkiDer + '\0' << QStringLiteral("trailing");
    QTest::newRow("truncated PKCS#1 DER") << m_pkcs1Der.left(100) << QString();
    QTest::newRow("base64 of truncated DER") << m_spkiDer.left(200).toBase64() << QString();
    QTest::newRow("base64 with a bad character") << m_spkiDer.toBase64().replace(10, 1, "*") << QString();
    QTest::newRow("PEM without END") << readAll(path("spki.pem")).replace("-----END PUBLIC KEY-----", "")
                                     << QStringLiteral("END");
    QTest::newRow("PEM with mismatched END")
        << readAll(path("spki.pem")).replace("END PUBLIC KEY", "END RSA PUBLIC KEY") << QStringLiteral("END");
    QTest::newRow("PEM label swapped (PKCS#1 body in PUBLIC KEY)")
        << readAll(path("pkcs1.pem")).replace("RSA PUBLIC KEY", "PUBLIC KEY") << QString();
    QTest::newRow("certificate PEM label")
        << readAll(path("spki.pem")).replace("PUBLIC KEY", "CERTIFICATE") << QStringLiteral("CERTIFICATE");
    QTest::newRow("private key PEM") << readAll(path("priv-pkcs1.pem")) << QStringLiteral("not a public key");
    QTest::newRow("EC SPKI PEM") << ecPem << QStringLiteral("not an RSA key");
    QTest::newRow("EC SPKI DER") << ecDer << QStringLiteral("not an RSA key");
    QTest::newRow("EC SPKI base64") << ecDer.toBase64() << QStringLiteral("not an RSA key");
    QTest::newRow("Ed25519 SPKI PEM") << readAll(path("ed25519-pub.pem")) << QStringLiteral("not an RSA key");
}

void tst_CryptoKeys::publicKeyRejects() {
    QFETCH(QByteArray, data);
    QFETCH(QString, errorFragment);
    QString error;
    const RsaPublicKey key = RsaPublicKey::fromData(data, &error);
    QVERIFY(key.isNull());
    QVERIFY(!error.isEmpty());
    if (!errorFragment.isEmpty())
        QVERIFY2(error.contains(errorFragment), qPrintable(error));
    QVERIFY(key.toSubjectPublicKeyInfoDer().isEmpty());
    QVERIFY(RsaPublicKey::fromData(data).isNull()); // the error pointer is optional
}

void tst_CryptoKeys::publicKeyRoundTrips() {
    const RsaPublicKey key = RsaPublicKey::fromData(m_spkiDer);
    QVERIFY(!key.isNull());
    QVERIFY(key.toPem().startsWith("-----BEGIN PUBLIC KEY-----\n"));
    QCOMPARE(key.toPem(), readAll(path("spki.pem"))); // same layout as openssl writes
    QCOMPARE(RsaPublicKey::fromData(key.toPem()), key);
    QCOMPARE(RsaPublicKey::fromData(key.toPkcs1Der()), key);
    QCOMPARE(RsaPublicKey::fromData(key.toBase64()), key);

    const RsaPublicKey copy = key; // a cheap copy that still compares equal
    QCOMPARE(copy, key);
    QVERIFY(copy != RsaPublicKey());
    const RsaPublicKey other = RsaPrivateKey::generate(2048).publicKey();
    QVERIFY(!other.isNull());
    QVERIFY(other != key);
}

void tst_CryptoKeys::nullPublicKey() {
    const RsaPublicKey key;
    QVERIFY(key.isNull());
    QCOMPARE(key.bits(), 0);
    QVERIFY(key.toSubjectPublicKeyInfoDer().isEmpty());
    QVERIFY(key.toPkcs1Der().isEmpty());
    QVERIFY(key.toPem().isEmpty());
    QCOMPARE(key, RsaPublicKey());
}

void tst_CryptoKeys::privateKeyImports_data() {
    QTest::addColumn<QByteArray>("data");
    QTest::newRow("PKCS#1 DER") << m_privPkcs1Der;
    QTest::newRow("PKCS#8 DER") << readAll(path("priv-pkcs8.der"));
    QTest::newRow("PKCS#1 PEM") << readAll(path("priv-pkcs1.pem"));
    QTest::newRow("PKCS#8 PEM (openssl genrsa)") << readAll(path("rsa.pem"));
}

void tst_CryptoKeys::privateKeyImports() {
    QFETCH(QByteArray, data);
    QVERIFY(!data.isEmpty());
    QString error;
    const RsaPrivateKey key = RsaPrivateKey::fromData(data, &error);
    QVERIFY2(!key.isNull(), qPrintable(error));
    QCOMPARE(key.bits(), 2048);
    QCOMPARE(key.toPkcs1Der(), m_privPkcs1Der);
    QCOMPARE(key.toPkcs8Der(), readAll(path("priv-pkcs8.der")));
    QCOMPARE(key.toPem(), readAll(path("priv-pkcs1.pem")));
    QCOMPARE(key.publicKey().toSubjectPublicKeyInfoDer(), m_spkiDer);
    QCOMPARE(RsaPrivateKey::fromData(key.toPem()), key);
    QCOMPARE(RsaPrivateKey::fromData(key.toPkcs8Der()), key);
}

void tst_CryptoKeys::privateKeyRejects_data() {
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QString>("errorFragment");
    QTest::newRow("empty") << QByteArray() << QString();
    QTest::newRow("text") << QByteArray("not a key") << QString();
    QTest::newRow("truncated PKCS#1 DER") << m_privPkcs1Der.left(m_privPkcs1Der.size() / 2) << QString();
    QTest::newRow("PKCS#1 DER with a trailing byte") << m_privPkcs1Der + 'x' << QStringLiteral("trailing");
    QTest::newRow("public key DER") << m_spkiDer << QString();
    QTest::newRow("public key PEM") << readAll(path("spki.pem")) << QStringLiteral("not a private key");
    QTest::newRow("encrypted PKCS#8 PEM") << readAll(path("priv-encrypted.pem")) << QStringLiteral("encrypted");
    QTest::newRow("EC private key PEM") << readAll(path("ec.pem")) << QStringLiteral("not an RSA key");
}

void tst_CryptoKeys::privateKeyRejects() {
    QFETCH(QByteArray, data);
    QFETCH(QString, errorFragment);
    QString error;
    const RsaPrivateKey key = RsaPrivateKey::fromData(data, &error);
    QVERIFY(key.isNull());
    QVERIFY(!error.isEmpty());
    if (!errorFragment.isEmpty())
        QVERIFY2(error.contains(errorFragment), qPrintable(error));
    QVERIFY(key.publicKey().isNull());
    QVERIFY(key.toPkcs1Der().isEmpty());
}

void tst_CryptoKeys::generate() {
    QString error;
    const RsaPrivateKey key = RsaPrivateKey::generate(2048, &error);
    QVERIFY2(!key.isNull(), qPrintable(error));
    QCOMPARE(key.bits(), 2048);
    QCOMPARE(key.publicKey().bits(), 2048);
    // PKCS#1 RSAPublicKey ends with the exponent: INTEGER 65537 = 02 03 01 00 01.
    QVERIFY(key.publicKey().toPkcs1Der().endsWith(QByteArray::fromHex("0203010001")));
    QVERIFY(key.toPem().startsWith("-----BEGIN RSA PRIVATE KEY-----\n"));
    QCOMPARE(RsaPrivateKey::fromData(key.toPkcs1Der()), key);

    const RsaPrivateKey second = RsaPrivateKey::generate();
    QVERIFY(!second.isNull());
    QCOMPARE(second.bits(), 2048);
    QVERIFY(second != key);
    QVERIFY(second.publicKey() != key.publicKey());
}

void tst_CryptoKeys::generateRejectsBadSizes_data() {
    QTest::addColumn<int>("bits");
    QTest::newRow("0") << 0;
    QTest::newRow("negative") << -2048;
    QTest::newRow("512") << 512;
    QTest::newRow("too big") << 65536;
}

void tst_CryptoKeys::generateRejectsBadSizes() {
    QFETCH(int, bits);
    QString error;
    QVERIFY(RsaPrivateKey::generate(bits, &error).isNull());
    QVERIFY(error.contains(QString::number(bits)));
}

static int fileMode(const QString &path) {
    struct stat info {};
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return -1;
    return int(info.st_mode & 07777);
}

void tst_CryptoKeys::saveAndLoad() {
    const RsaPrivateKey key = RsaPrivateKey::fromData(m_privPkcs1Der);
    QVERIFY(!key.isNull());
    const QString file = path("saved/domain.key");
    QVERIFY(QDir(m_dir.path()).mkpath("saved"));

    QString error;
    QVERIFY2(key.saveToFile(file, &error), qPrintable(error));
    QCOMPARE(fileMode(file), 0600);
    QCOMPARE(readAll(file), key.toPem());
    QCOMPARE(QDir(path("saved")).entryList(QDir::Files), QStringList { "domain.key" }); // no temp file left

    const RsaPrivateKey loaded = RsaPrivateKey::loadFromFile(file, &error);
    QVERIFY2(!loaded.isNull(), qPrintable(error));
    QCOMPARE(loaded, key);
    QCOMPARE(loaded.publicKey(), key.publicKey());

    QVERIFY(!RsaPrivateKey().saveToFile(path("null.key"), &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(!QFileInfo::exists(path("null.key")));

    error.clear();
    QVERIFY(!key.saveToFile(path("no/such/dir/domain.key"), &error));
    QVERIFY(!error.isEmpty());
}

void tst_CryptoKeys::saveIsOwnerOnlyWhateverTheUmask() {
    const RsaPrivateKey key = RsaPrivateKey::fromData(m_privPkcs1Der);
    const QString file = path("umask0.key");
    const mode_t previous = ::umask(0);
    QString error;
    const bool saved = key.saveToFile(file, &error);
    ::umask(previous);
    QVERIFY2(saved, qPrintable(error));
    QCOMPARE(fileMode(file), 0600);
}

void tst_CryptoKeys::saveReplacesWorldReadableFile() {
    const QString file = path("old.key");
    QVERIFY(writeAll(file, "old contents"));
    QVERIFY(::chmod(QFile::encodeName(file).constData(), 0644) == 0);
    QCOMPARE(fileMode(file), 0644);

    const RsaPrivateKey key = RsaPrivateKey::fromData(m_privPkcs1Der);
    QString error;
    QVERIFY2(key.saveToFile(file, &error), qPrintable(error));
    QCOMPARE(fileMode(file), 0600);
    QCOMPARE(RsaPrivateKey::loadFromFile(file), key);
}

void tst_CryptoKeys::loadReportsPath() {
    QString error;
    QVERIFY(RsaPrivateKey::loadFromFile(path("missing.key"), &error).isNull());
    QVERIFY2(error.contains(QLatin1String("missing.key")), qPrintable(error));

    QVERIFY(writeAll(path("garbage.key"), "garbage"));
    QVERIFY(RsaPrivateKey::loadFromFile(path("garbage.key"), &error).isNull());
    QVERIFY2(error.contains(QLatin1String("garbage.key")), qPrintable(error));
}

QTEST_GUILESS_MAIN(tst_CryptoKeys)
#include "tst_cryptokeys.moc"

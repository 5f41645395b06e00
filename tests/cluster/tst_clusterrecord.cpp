// The byte forms the cluster keeps in Redis and sends between nodes: golden hex, round trips, and
// every truncation or foreign format rejected with a reason (another node's bytes are input too).
#include <cluster/ClusterRecord.h>

#include <QtTest/QTest>

namespace {

ClusterRecord sample() {
    ClusterRecord record;
    record.publicSocket = IpEndpoint(QHostAddress(QStringLiteral("203.0.113.5")), 40102);
    record.localSocket = IpEndpoint(QHostAddress(QStringLiteral("192.168.1.20")), 40102);
    record.keyFingerprint = "ABCD";
    record.publishedAtMs = 0x0000018C12345678LL;
    return record;
}

const QByteArray kSampleHex = "01"
                              "00cb0071059ca6"    // public 203.0.113.5:40102
                              "00c0a801149ca6"    // local 192.168.1.20:40102
                              "0441424344"        // fingerprint "ABCD"
                              "0000018c12345678"; // published at

} // namespace

class tst_ClusterRecord : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void golden();
    void ipv6RoundTrip();
    void rejects_data();
    void rejects();
    void everyTruncationRejected();
    void fingerprintCut();
    void message();
    void messageRejects_data();
    void messageRejects();
};

void tst_ClusterRecord::golden() {
    QCOMPARE(sample().encodeData().toHex(), kSampleHex);
    ClusterRecord decoded;
    QString why;
    QVERIFY2(decoded.decodeData(QByteArray::fromHex(kSampleHex), &why), qPrintable(why));
    QCOMPARE(decoded.publicSocket, sample().publicSocket);
    QCOMPARE(decoded.localSocket, sample().localSocket);
    QCOMPARE(decoded.keyFingerprint, QByteArray("ABCD"));
    QCOMPARE(decoded.publishedAtMs, sample().publishedAtMs);
}

void tst_ClusterRecord::ipv6RoundTrip() {
    ClusterRecord record = sample();
    record.publicSocket = IpEndpoint(QHostAddress(QStringLiteral("2001:db8::7")), 7);
    record.keyFingerprint.clear();
    ClusterRecord decoded;
    QVERIFY(decoded.decodeData(record.encodeData()));
    QCOMPARE(decoded.publicSocket, record.publicSocket);
    QVERIFY(decoded.keyFingerprint.isEmpty());
}

void tst_ClusterRecord::rejects_data() {
    QTest::addColumn<QByteArray>("hex");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("empty") << QByteArray() << "empty";
    QTest::newRow("format 2") << QByteArray("02") + kSampleHex.mid(2) << "format 2";
    QTest::newRow("trailing byte") << kSampleHex + "00"
                                   << "unexpected";
    QTest::newRow("fingerprint too long")
        << QByteArray("0100cb0071059ca600c0a801149ca641") + QByteArray(65 * 2, 'a') + "0000018c12345678"
        << "65 bytes";
    QTest::newRow("bad address family") << QByteArray("0107cb0071059ca6") + kSampleHex.mid(16) << "malformed";
}

void tst_ClusterRecord::rejects() {
    QFETCH(QByteArray, hex);
    QFETCH(QString, mentions);
    ClusterRecord decoded = sample();
    QString why;
    QVERIFY(!decoded.decodeData(QByteArray::fromHex(hex), &why));
    QVERIFY2(why.contains(mentions), qPrintable(why));
    QCOMPARE(decoded.publicSocket, sample().publicSocket); // untouched on failure
}

void tst_ClusterRecord::everyTruncationRejected() {
    const QByteArray full = QByteArray::fromHex(kSampleHex);
    for (int size = 0; size < full.size(); ++size) {
        ClusterRecord decoded;
        QVERIFY2(!decoded.decodeData(full.left(size)), qPrintable(QString::number(size)));
    }
}

void tst_ClusterRecord::fingerprintCut() {
    ClusterRecord record = sample();
    record.keyFingerprint = QByteArray(100, 'x');
    ClusterRecord decoded;
    QVERIFY(decoded.decodeData(record.encodeData()));
    QCOMPARE(decoded.keyFingerprint, QByteArray(ClusterRecord::kMaxFingerprint, 'x'));
}

void tst_ClusterRecord::message() {
    ClusterMessage message;
    message.fromNode = QStringLiteral("node-a");
    message.payload = QByteArray::fromHex("00ff10");
    QCOMPARE(message.encode().toHex(), QByteArray("01066e6f64652d6100ff10"));
    ClusterMessage decoded;
    QVERIFY(decoded.decode(message.encode()));
    QCOMPARE(decoded.fromNode, message.fromNode);
    QCOMPARE(decoded.payload, message.payload);
}

void tst_ClusterRecord::messageRejects_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("empty") << QByteArray() << "truncated";
    QTest::newRow("node cut") << QByteArray::fromHex("01066e6f") << "truncated";
    QTest::newRow("format 9") << QByteArray::fromHex("09016100") << "format 9";
    QTest::newRow("no sender") << QByteArray::fromHex("0100ff") << "sender";
    QTest::newRow("huge payload") << QByteArray::fromHex("010161") + QByteArray(ClusterMessage::kMaxPayload + 1, 'p')
                                  << "payload";
}

void tst_ClusterRecord::messageRejects() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, mentions);
    ClusterMessage decoded;
    QString why;
    QVERIFY(!decoded.decode(bytes, &why));
    QVERIFY2(why.contains(mentions), qPrintable(why));
}

QTEST_GUILESS_MAIN(tst_ClusterRecord)
#include "tst_clusterrecord.moc"

// Overte writes its ICE payloads with a big-endian QDataStream; our codecs write the bytes by hand.
// These tests hold the two together: for each value our encoding must equal what Qt's own
// QDataStream writes, and what QDataStream wrote must decode to the same value.
// Source: docs/protocol.md 2.3 and 2.4.
#include "WireGolden.h"
#include "WireInvariants.h"

#include <IcePackets.h>
#include <NetworkPeer.h>

#include <QtCore/QDataStream>
#include <QtTest/QtTest>

using golden::hex;
using wireinvariants::sameSockAddr;

namespace {

template <typename Fn> QByteArray qtStream(Fn write) {
    QByteArray bytes;
    QDataStream out(&bytes, QIODevice::WriteOnly);
    write(out);
    return bytes;
}

QByteArray ours(const SockAddr &addr) {
    QByteArray bytes;
    ByteWriter writer(bytes);
    addr.encode(writer);
    return bytes;
}

SockAddr sock(const QString &ip, quint16 port, const QString &scope = QString()) {
    QHostAddress address(ip);
    if (!scope.isNull()) {
        address.setScopeId(scope);
    }
    return SockAddr(address, port);
}

QByteArray heartbeatTail(const QByteArray &signature) {
    IceServerHeartbeat hb;
    hb.signature = signature;
    const QByteArray payload = hb.toPayload();
    return payload.mid(payload.size() - (signature.isNull() ? 4 : 4 + signature.size()));
}

} // namespace

class tst_QDataStreamCompat : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void byteOrderIsBigEndian();
    void sockAddr_data();
    void sockAddr();
    void uuid_data();
    void uuid();
    void byteArray_data();
    void byteArray();
    void networkPeer_data();
    void networkPeer();
    void query_data();
    void query();
    void section23Bytes();
};

void tst_QDataStreamCompat::byteOrderIsBigEndian() {
    QByteArray bytes;
    QDataStream out(&bytes, QIODevice::WriteOnly);
    QCOMPARE(out.byteOrder(), QDataStream::BigEndian);
    out << quint16(0x9ca6);
    QCOMPARE(bytes, hex("9c a6"));
}

void tst_QDataStreamCompat::sockAddr_data() {
    QTest::addColumn<SockAddr>("addr");
    QTest::addColumn<QByteArray>("expected"); // the bytes section 2.4 predicts; empty = not spelled out

    QTest::newRow("ipv4") << golden::clientPublic() << hex("00 cb 00 71 05 9c a6");
    QTest::newRow("ipv4 private") << golden::domainLocal() << hex("00 0a 00 00 02 9c a6");
    QTest::newRow("ipv4 port 0") << sock(QStringLiteral("1.2.3.4"), 0) << hex("00 01 02 03 04 00 00");
    QTest::newRow("ipv4 port 65535") << sock(QStringLiteral("255.255.255.255"), 65535) << hex("00 ff ff ff ff ff ff");
    QTest::newRow("ipv6") << sock(QStringLiteral("2001:db8::1"), 40102)
                          << hex("01 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 ff ff ff ff 9c a6");
    QTest::newRow("ipv6 scope eth0") << sock(QStringLiteral("fe80::2"), 40102, QStringLiteral("eth0"))
                                     << hex("01 fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02"
                                            "00 00 00 08 00 65 00 74 00 68 00 30 9c a6");
    QTest::newRow("ipv6 numeric scope") << sock(QStringLiteral("fe80::1"), 1, QStringLiteral("17")) << QByteArray();
    QTest::newRow("ipv6 non-latin scope")
        << sock(QStringLiteral("fe80::1"), 1, QString(QChar(0x00e9)) + QChar(0x4e2d)) << QByteArray();
    // A non-null empty scope id is written as length 0, not as a null QString.
    QTest::newRow("ipv6 empty scope") << sock(QStringLiteral("fe80::1"), 1, QStringLiteral(""))
                                      << hex("01 fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 01");
    QTest::newRow("ipv6 v4-mapped") << sock(QStringLiteral("::ffff:10.0.0.2"), 40102) << QByteArray();
    QTest::newRow("null, port 0") << SockAddr() << hex("ff 00 00");
    QTest::newRow("null with port") << SockAddr(QHostAddress(), 40102) << hex("ff 9c a6");
    QTest::newRow("QHostAddress::Any") << SockAddr(QHostAddress(QHostAddress::Any), 40102) << hex("02 9c a6");
    QTest::newRow("QHostAddress::AnyIPv4")
        << SockAddr(QHostAddress(QHostAddress::AnyIPv4), 40102) << hex("00 00 00 00 00 9c a6");
    QTest::newRow("QHostAddress::AnyIPv6") << SockAddr(QHostAddress(QHostAddress::AnyIPv6), 40102)
                                           << hex("01 00000000000000000000000000000000 ff ff ff ff 9c a6");
    QTest::newRow("QHostAddress::LocalHost")
        << SockAddr(QHostAddress(QHostAddress::LocalHost), 40102) << hex("00 7f 00 00 01 9c a6");
    QTest::newRow("QHostAddress::LocalHostIPv6") << SockAddr(QHostAddress(QHostAddress::LocalHostIPv6), 1)
                                                 << hex("01 00000000000000000000000000000001 ff ff ff ff 00 01");
    QTest::newRow("QHostAddress::Broadcast")
        << SockAddr(QHostAddress(QHostAddress::Broadcast), 7337) << hex("00 ff ff ff ff 1c a9");
}

void tst_QDataStreamCompat::sockAddr() {
    QFETCH(SockAddr, addr);
    QFETCH(QByteArray, expected);

    const QByteArray qt = qtStream([&](QDataStream &out) { out << addr.getAddress() << addr.getPort(); });
    QCOMPARE(ours(addr).toHex(' '), qt.toHex(' '));
    if (!expected.isEmpty()) {
        QCOMPARE(qt.toHex(' '), expected.toHex(' '));
    }
    // SockAddr's own stream operator is the same bytes.
    QCOMPARE(qtStream([&](QDataStream &out) { out << addr; }), qt);

    // Decoding what Qt wrote gives the value back, scope id included.
    ByteReader in(qt);
    const SockAddr decoded = SockAddr::decode(in);
    QVERIFY2(in.ok(), qPrintable(wireErrorString(in.error())));
    QVERIFY(in.atEnd());
    QVERIFY(sameSockAddr(decoded, addr));

    // And Qt reads our bytes back to the same value.
    QByteArray mine = ours(addr);
    QDataStream back(&mine, QIODevice::ReadOnly);
    QHostAddress address;
    quint16 port = 0;
    back >> address >> port;
    QCOMPARE(back.status(), QDataStream::Ok);
    QVERIFY(back.atEnd());
    QVERIFY(sameSockAddr(SockAddr(address, port), addr));
}

void tst_QDataStreamCompat::uuid_data() {
    QTest::addColumn<QUuid>("uuid");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("null") << QUuid() << QByteArray(16, '\0');
    QTest::newRow("client ID") << golden::clientID() << hex("11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00");
    QTest::newRow("domain ID") << golden::domainID() << hex("6b a7 b8 10 9d ad 11 d1 80 b4 00 c0 4f d4 30 c8");
    QTest::newRow("all ones") << QUuid(QStringLiteral("{ffffffff-ffff-ffff-ffff-ffffffffffff}"))
                              << QByteArray(16, '\xff');
    QTest::newRow("v4 random-looking") << QUuid(QStringLiteral("{0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0}"))
                                       << hex("0f 1e 2d 3c 4b 5a 49 78 87 96 a5 b4 c3 d2 e1 f0");
    QTest::newRow("fromRfc4122") << QUuid::fromRfc4122(hex("00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f"))
                                 << hex("00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f");
}

void tst_QDataStreamCompat::uuid() {
    QFETCH(QUuid, uuid);
    QFETCH(QByteArray, expected);

    const QByteArray qt = qtStream([&](QDataStream &out) { out << uuid; });
    QByteArray mine;
    ByteWriter writer(mine);
    encodeUuid(writer, uuid);
    QCOMPARE(mine.toHex(' '), qt.toHex(' '));
    QCOMPARE(qt.toHex(' '), expected.toHex(' '));

    ByteReader in(qt);
    QCOMPARE(decodeUuid(in), uuid);
    QVERIFY(in.ok() && in.atEnd());

    QDataStream back(&mine, QIODevice::ReadOnly);
    QUuid read;
    back >> read;
    QCOMPARE(read, uuid);
}

// Our only QByteArray codec is the heartbeat's signature field; compare that part of the payload.
void tst_QDataStreamCompat::byteArray_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("null") << QByteArray() << hex("ff ff ff ff");
    QTest::newRow("empty") << QByteArray("") << hex("00 00 00 00");
    QTest::newRow("ab") << QByteArray("ab") << hex("00 00 00 02 61 62");
    QTest::newRow("embedded zeros") << QByteArray("\0\0\x01", 3) << hex("00 00 00 03 00 00 01");
    QTest::newRow("256 bytes") << golden::signature256() << hex("00 00 01 00") + golden::signature256();
    QTest::newRow("1024 bytes") << QByteArray(1024, 'x') << hex("00 00 04 00") + QByteArray(1024, 'x');
}

void tst_QDataStreamCompat::byteArray() {
    QFETCH(QByteArray, bytes);
    QFETCH(QByteArray, expected);

    const QByteArray qt = qtStream([&](QDataStream &out) { out << bytes; });
    QCOMPARE(qt.toHex(' '), expected.toHex(' '));
    QCOMPARE(heartbeatTail(bytes).toHex(' '), qt.toHex(' '));

    // A whole heartbeat written field by field with QDataStream decodes to the same signature.
    const QByteArray payload = qtStream([&](QDataStream &out) {
        out << golden::domainID() << golden::domainPublic() << golden::domainLocal() << bytes;
    });
    const auto decoded = IceServerHeartbeat::fromPayload(payload);
    QVERIFY2(decoded.ok(), qPrintable(wireErrorString(decoded.error)));
    QCOMPARE(decoded.value.signature, bytes);
    QCOMPARE(decoded.value.signature.isNull(), bytes.isNull());
    QCOMPARE(decoded.value.plaintext, payload.left(30));

    // Qt reads our bytes back to the same content.
    QByteArray mine = heartbeatTail(bytes);
    QDataStream back(&mine, QIODevice::ReadOnly);
    QByteArray read;
    back >> read;
    QCOMPARE(back.status(), QDataStream::Ok);
    QCOMPARE(read, bytes);
}

void tst_QDataStreamCompat::networkPeer_data() {
    QTest::addColumn<QUuid>("uuid");
    QTest::addColumn<SockAddr>("publicSocket");
    QTest::addColumn<SockAddr>("localSocket");

    QTest::newRow("domain record") << golden::domainID() << golden::domainPublic() << golden::domainLocal();
    QTest::newRow("client record") << golden::clientID() << golden::clientPublic() << golden::clientLocal();
    QTest::newRow("null public") << golden::clientID() << SockAddr() << golden::clientLocal();
    QTest::newRow("ipv6 both") << golden::domainID() << sock(QStringLiteral("2001:db8::7"), 40102)
                               << sock(QStringLiteral("fe80::7"), 40102, QStringLiteral("wlan0"));
    QTest::newRow("any and localhost") << QUuid() << SockAddr(QHostAddress(QHostAddress::Any), 1)
                                       << SockAddr(QHostAddress(QHostAddress::LocalHost), 2);
}

void tst_QDataStreamCompat::networkPeer() {
    QFETCH(QUuid, uuid);
    QFETCH(SockAddr, publicSocket);
    QFETCH(SockAddr, localSocket);

    const QByteArray qt = qtStream([&](QDataStream &out) {
        out << uuid << publicSocket.getAddress() << publicSocket.getPort() << localSocket.getAddress()
            << localSocket.getPort();
    });
    const NetworkPeer peer(uuid, publicSocket, localSocket);
    QCOMPARE(peer.toByteArray().toHex(' '), qt.toHex(' '));

    const auto decoded = NetworkPeer::fromByteArray(qt);
    QVERIFY2(decoded.ok(), qPrintable(wireErrorString(decoded.error)));
    QCOMPARE(decoded.value.getUUID(), uuid);
    QVERIFY(sameSockAddr(decoded.value.getPublicSocket(), publicSocket));
    QVERIFY(sameSockAddr(decoded.value.getLocalSocket(), localSocket));
}

void tst_QDataStreamCompat::query_data() {
    networkPeer_data();
}

void tst_QDataStreamCompat::query() {
    QFETCH(QUuid, uuid);
    QFETCH(SockAddr, publicSocket);
    QFETCH(SockAddr, localSocket);

    const QUuid target = golden::domainID();
    const QByteArray qt = qtStream([&](QDataStream &out) { out << uuid << publicSocket << localSocket << target; });
    const IceServerQuery query { uuid, publicSocket, localSocket, target };
    QCOMPARE(query.toPayload().toHex(' '), qt.toHex(' '));

    const auto decoded = IceServerQuery::fromPayload(qt);
    QVERIFY2(decoded.ok(), qPrintable(wireErrorString(decoded.error)));
    QCOMPARE(decoded.value.clientID, uuid);
    QVERIFY(sameSockAddr(decoded.value.publicSocket, publicSocket));
    QVERIFY(sameSockAddr(decoded.value.localSocket, localSocket));
    QCOMPARE(decoded.value.domainID, target);
}

// The byte string section 2.3 quotes as checked on Qt 5.15.8 and 6.4.2.
void tst_QDataStreamCompat::section23Bytes() {
    const QByteArray quoted = hex("6ba7b8109dad11d180b400c04fd430c8 | 00 c6336407 | 9ca6 | ff | 0000 |"
                                  " 01 00000000000000000000000000000001 ffffffff | 0001 | 00000002 6162 | ffffffff");
    QCOMPARE(int(quoted.size()), 16 + 5 + 2 + 1 + 2 + 21 + 2 + 6 + 4);

    const QHostAddress v4(QStringLiteral("198.51.100.7"));
    const QHostAddress v6(QStringLiteral("::1"));
    const QByteArray qt = qtStream([&](QDataStream &out) {
        out << golden::domainID() << v4 << quint16(40102) << QHostAddress() << quint16(0) << v6 << quint16(1)
            << QByteArray("ab") << QByteArray();
    });
    QCOMPARE(qt.toHex(' '), quoted.toHex(' '));

    // The same bytes from our codecs: a UUID, three SockAddrs and two QByteArray fields.
    QByteArray mine;
    ByteWriter writer(mine);
    encodeUuid(writer, golden::domainID());
    SockAddr(v4, 40102).encode(writer);
    SockAddr(QHostAddress(), 0).encode(writer);
    SockAddr(v6, 1).encode(writer);
    mine += heartbeatTail(QByteArray("ab"));
    mine += heartbeatTail(QByteArray());
    QCOMPARE(mine.toHex(' '), quoted.toHex(' '));
}

QTEST_GUILESS_MAIN(tst_QDataStreamCompat)
#include "tst_qdatastreamcompat.moc"

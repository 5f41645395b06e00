// Golden-packet tests for the ICE wire format: every worked example of docs/protocol.md
// section 2.5 must encode to exactly the document's bytes and decode back to the same fields,
// plus the header variants (sequence numbers, message words, obfuscation) and the type table.
#include "WireGolden.h"
#include "WireInvariants.h"

#include <IcePackets.h>
#include <NLDatagram.h>

#include <QtTest/QtTest>

using golden::hex;
using wireinvariants::sameSockAddr;

namespace {

SockAddr v6(const char *ip, quint16 port, const QString &scope = QString()) {
    QHostAddress address(QString::fromLatin1(ip));
    if (!scope.isNull()) {
        address.setScopeId(scope);
    }
    return SockAddr(address, port);
}

QByteArray datagramFor(PacketType type, quint32 sequenceNumber, const QByteArray &payload) {
    NLDatagram packet = NLDatagram::create(type, payload);
    packet.udt.sequenceNumber = sequenceNumber;
    return packet.toDatagram();
}

// Independent oracle for section 2.1: the key strings as the document spells them.
QByteArray obfuscateByHand(QByteArray datagram, int level, int udtSize) {
    static const char *const keys[] = { "tessirbc", "adraribs", "namffuhr" };
    datagram[3] = char(quint8(datagram[3]) | quint8(level << 3)); // bits 28..27 of the LE word
    for (int i = udtSize; i < datagram.size(); ++i) {
        datagram[i] = char(datagram[i] ^ keys[level - 1][(i - udtSize) % 8]);
    }
    return datagram;
}

const QByteArray kClient = "11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00 ";
const QByteArray kDomain = "6b a7 b8 10 9d ad 11 d1 80 b4 00 c0 4f d4 30 c8 ";
const QByteArray kClientPublic = "00 cb 00 71 05 9c a6 ";
const QByteArray kClientLocal = "00 c0 a8 01 0a 9c a6 ";
const QByteArray kDomainPublic = "00 c6 33 64 07 9c a6 ";
const QByteArray kDomainLocal = "00 0a 00 00 02 9c a6 ";
// 2001:db8::1 with a null scope id, port 40102.
const QByteArray kV6Doc = "01 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 ff ff ff ff 9c a6 ";
// fe80::2%eth0, port 40102: the scope id is a QString (byte length, UTF-16 BE).
const QByteArray
    kV6Eth0 = "01 fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02 00 00 00 08 00 65 00 74 00 68 00 30 9c a6 ";

QByteArray h(const QByteArray &spaced) {
    return QByteArray::fromHex(spaced);
}

} // namespace

class tst_IceGolden : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void packetTypeTable_data();
    void packetTypeTable();
    void packetTypeTableRejectsOtherBytes();
    void sourcedHeader();

    void query_data();
    void query();
    void ping_data();
    void ping();
    void peerInformation_data();
    void peerInformation();
    void heartbeat_data();
    void heartbeat();
    void heartbeatPlaintextIsSignedRange();
    void emptyPayload_data();
    void emptyPayload();

    void udtHeader_data();
    void udtHeader();
    void obfuscation_data();
    void obfuscation();
};

void tst_IceGolden::packetTypeTable_data() {
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<int>("number");
    QTest::addColumn<int>("version");
    QTest::addColumn<bool>("sourced");
    QTest::addColumn<bool>("verified");
    QTest::addColumn<int>("headerSize");

    // Section 1, "Packet types and versions". sourced = not in the NonSourced set,
    // verified = not in the NonVerified list. Header = 2 + 2 if sourced + 16 if sourced and verified.
    QTest::newRow("DomainConnectRequestPending")
        << QByteArray("DomainConnectRequestPending") << 1 << 17 << false << true << 2;
    QTest::newRow("DomainList") << QByteArray("DomainList") << 2 << 25 << false << true << 2;
    QTest::newRow("DomainListRequest") << QByteArray("DomainListRequest") << 13 << 23 << true << false << 4;
    QTest::newRow("DomainConnectionDenied") << QByteArray("DomainConnectionDenied") << 16 << 19 << false << true << 2;
    QTest::newRow("ICEServerPeerInformation")
        << QByteArray("ICEServerPeerInformation") << 22 << 17 << false << true << 2;
    QTest::newRow("ICEServerQuery") << QByteArray("ICEServerQuery") << 23 << 17 << false << true << 2;
    QTest::newRow("DomainConnectRequest") << QByteArray("DomainConnectRequest") << 31 << 27 << false << true << 2;
    QTest::newRow("ICEServerHeartbeat") << QByteArray("ICEServerHeartbeat") << 38 << 18 << false << true << 2;
    QTest::newRow("ICEPing") << QByteArray("ICEPing") << 39 << 18 << false << true << 2;
    QTest::newRow("ICEPingReply") << QByteArray("ICEPingReply") << 40 << 17 << false << true << 2;
    QTest::newRow("DomainServerConnectionToken")
        << QByteArray("DomainServerConnectionToken") << 46 << 22 << false << true << 2;
    QTest::newRow("ICEServerHeartbeatDenied")
        << QByteArray("ICEServerHeartbeatDenied") << 60 << 17 << false << true << 2;
    QTest::newRow("ICEServerHeartbeatACK") << QByteArray("ICEServerHeartbeatACK") << 63 << 17 << false << true << 2;
}

void tst_IceGolden::packetTypeTable() {
    QFETCH(QByteArray, name);
    QFETCH(int, number);
    QFETCH(int, version);
    QFETCH(bool, sourced);
    QFETCH(bool, verified);
    QFETCH(int, headerSize);

    const PacketType type = PacketType(number);
    QVERIFY(isKnownPacketType(quint8(number)));
    QCOMPARE(QByteArray(packetTypeName(type)), name);
    QCOMPARE(int(versionForPacketType(type)), version);
    QCOMPARE(isSourcedPacketType(type), sourced);
    QCOMPARE(isVerifiedPacketType(type), verified);
    QCOMPARE(NLDatagram::localHeaderSize(type), headerSize);

    // The type is listed by allPacketTypes(), and debug output names it.
    bool listed = false;
    for (int i = 0; i < packetTypeTableSize(); ++i) {
        listed = listed || allPacketTypes()[i] == type;
    }
    QVERIFY(listed);
    QString debugText;
    QDebug(&debugText) << type;
    QCOMPARE(debugText.trimmed(), QStringLiteral("%1(%2)").arg(QString::fromLatin1(name)).arg(number));

    // A packet created for the type carries the table's version and the header the rule gives.
    const NLDatagram packet = NLDatagram::create(type);
    QCOMPARE(int(packet.version), version);
    QVERIFY(packet.versionMatches());
    QCOMPARE(packet.totalHeaderSize(), 4 + headerSize);
    QCOMPARE(int(packet.toDatagram().size()), 4 + headerSize);
    const auto decoded = NLDatagram::fromDatagram(packet.toDatagram());
    QVERIFY2(decoded.ok(), qPrintable(wireErrorString(decoded.error)));
    QCOMPARE(int(decoded.value.type), number);
    QVERIFY(decoded.value.versionMatches());
}

void tst_IceGolden::packetTypeTableRejectsOtherBytes() {
    const QList<int> known = { 1, 2, 13, 16, 22, 23, 31, 38, 39, 40, 46, 60, 63 };
    QCOMPARE(packetTypeTableSize(), int(known.size()));
    for (int i = 0; i < packetTypeTableSize(); ++i) {
        QCOMPARE(int(allPacketTypes()[i]), known.at(i));
    }
    for (int byte = 0; byte < 256; ++byte) {
        QCOMPARE(isKnownPacketType(quint8(byte)), known.contains(byte));
        if (!known.contains(byte)) {
            QVERIFY(packetTypeName(PacketType(byte)) == nullptr);
            QCOMPARE(int(versionForPacketType(PacketType(byte))), 0);
        }
    }
}

// DomainListRequest is the one sourced type: a 2-byte little-endian local ID follows the version,
// and no hash because it is on the non-verified list.
void tst_IceGolden::sourcedHeader() {
    NLDatagram packet = NLDatagram::create(PacketType::DomainListRequest, QByteArray("\xaa\xbb", 2));
    packet.udt.sequenceNumber = 1;
    packet.sourceID = 0x1234;
    const QByteArray expected = hex("01 00 00 00  0d 17  34 12  aa bb");
    QCOMPARE(packet.toDatagram().toHex(' '), expected.toHex(' '));

    const auto decoded = NLDatagram::fromDatagram(expected);
    QVERIFY2(decoded.ok(), qPrintable(wireErrorString(decoded.error)));
    QCOMPARE(decoded.value.type, PacketType::DomainListRequest);
    QCOMPARE(decoded.value.sourceID, quint16(0x1234));
    QVERIFY(decoded.value.verificationHash.isEmpty());
    QCOMPARE(decoded.value.payload, QByteArray("\xaa\xbb", 2));
}

void tst_IceGolden::query_data() {
    QTest::addColumn<quint32>("sequenceNumber");
    QTest::addColumn<QUuid>("clientID");
    QTest::addColumn<SockAddr>("publicSocket");
    QTest::addColumn<SockAddr>("localSocket");
    QTest::addColumn<QUuid>("domainID");
    QTest::addColumn<QByteArray>("datagram");

    const QByteArray head = "01 00 00 00 17 11 ";
    QTest::newRow("section 2.5 example") << 1u << golden::clientID() << golden::clientPublic() << golden::clientLocal()
                                         << golden::domainID() << golden::query();
    QTest::newRow("ipv6 public, ipv6 link-local with scope id")
        << 1u << golden::clientID() << v6("2001:db8::1", 40102) << v6("fe80::2", 40102, QStringLiteral("eth0"))
        << golden::domainID() << h(head + kClient + kV6Doc + kV6Eth0 + kDomain);
    QTest::newRow("ipv6 numeric scope id")
        << 1u << golden::clientID() << golden::clientPublic() << v6("fe80::2", 40102, QStringLiteral("2"))
        << golden::domainID()
        << h(head + kClient + kClientPublic
             + "01 fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02 00 00 00 02 00 32 9c a6 " + kDomain);
    QTest::newRow("null public before STUN")
        << 1u << golden::clientID() << SockAddr() << golden::clientLocal() << golden::domainID()
        << h(head + kClient + "ff 00 00 " + kClientLocal + kDomain);
    QTest::newRow("null public after STUN failure")
        << 1u << golden::clientID() << SockAddr(QHostAddress(), 40102) << golden::clientLocal() << golden::domainID()
        << h(head + kClient + "ff 9c a6 " + kClientLocal + kDomain);
    QTest::newRow("both null") << 1u << golden::clientID() << SockAddr() << SockAddr() << golden::domainID()
                               << h(head + kClient + "ff 00 00 ff 00 00 " + kDomain);
    QTest::newRow("QHostAddress::Any") << 1u << golden::clientID() << SockAddr(QHostAddress(QHostAddress::Any), 7)
                                       << golden::clientLocal() << golden::domainID()
                                       << h(head + kClient + "02 00 07 " + kClientLocal + kDomain);
    QTest::newRow("null UUIDs") << 1u << QUuid() << golden::clientPublic() << golden::clientLocal() << QUuid()
                                << h(head + QByteArray(32, '0') + kClientPublic + kClientLocal + QByteArray(32, '0'));
    QTest::newRow("27-bit max sequence number")
        << 0x07FFFFFFu << golden::clientID() << golden::clientPublic() << golden::clientLocal() << golden::domainID()
        << h("ff ff ff 07 17 11 " + kClient + kClientPublic + kClientLocal + kDomain);
}

void tst_IceGolden::query() {
    QFETCH(quint32, sequenceNumber);
    QFETCH(QUuid, clientID);
    QFETCH(SockAddr, publicSocket);
    QFETCH(SockAddr, localSocket);
    QFETCH(QUuid, domainID);
    QFETCH(QByteArray, datagram);

    const IceServerQuery query { clientID, publicSocket, localSocket, domainID };
    QCOMPARE(datagramFor(PacketType::ICEServerQuery, sequenceNumber, query.toPayload()).toHex(' '),
             datagram.toHex(' '));

    const auto packet = NLDatagram::fromDatagram(datagram);
    QVERIFY2(packet.ok(), qPrintable(wireErrorString(packet.error)));
    QCOMPARE(packet.value.type, PacketType::ICEServerQuery);
    QVERIFY(packet.value.versionMatches());
    QCOMPARE(packet.value.udt.sequenceNumber, sequenceNumber);
    const auto decoded = IceServerQuery::fromPayload(packet.value.payload);
    QVERIFY2(decoded.ok(), qPrintable(wireErrorString(decoded.error)));
    QCOMPARE(decoded.value.clientID, clientID);
    QVERIFY(sameSockAddr(decoded.value.publicSocket, publicSocket));
    QVERIFY(sameSockAddr(decoded.value.localSocket, localSocket));
    QCOMPARE(decoded.value.domainID, domainID);
}

void tst_IceGolden::ping_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<quint32>("sequenceNumber");
    QTest::addColumn<QUuid>("senderID");
    QTest::addColumn<int>("pingType");
    QTest::addColumn<QByteArray>("datagram");

    QTest::newRow("ICEPing section 2.5") << int(PacketType::ICEPing) << 3u << golden::clientID()
                                         << int(PingType::Public) << golden::ping();
    QTest::newRow("ICEPingReply section 2.5")
        << int(PacketType::ICEPingReply) << 1u << golden::domainID() << int(PingType::Public) << golden::pingReply();
    const char *const names[] = { "Agnostic", "Local", "Public", "Symmetric" };
    for (int t = 0; t <= 3; ++t) {
        QTest::addRow("ICEPing %s", names[t])
            << int(PacketType::ICEPing) << 1u << golden::clientID() << t
            << h("01 00 00 00 27 12 " + kClient + QByteArray::number(t).rightJustified(2, '0'));
        QTest::addRow("ICEPingReply %s", names[t])
            << int(PacketType::ICEPingReply) << 2u << golden::domainID() << t
            << h("02 00 00 00 28 11 " + kDomain + QByteArray::number(t).rightJustified(2, '0'));
    }
}

void tst_IceGolden::ping() {
    QFETCH(int, type);
    QFETCH(quint32, sequenceNumber);
    QFETCH(QUuid, senderID);
    QFETCH(int, pingType);
    QFETCH(QByteArray, datagram);

    QCOMPARE(int(datagram.size()), 23);
    const IcePing ping { senderID, PingType(pingType) };
    QCOMPARE(int(ping.toPayload().size()), IcePing::PayloadSize);
    QCOMPARE(datagramFor(PacketType(type), sequenceNumber, ping.toPayload()).toHex(' '), datagram.toHex(' '));

    const auto packet = NLDatagram::fromDatagram(datagram);
    QVERIFY2(packet.ok(), qPrintable(wireErrorString(packet.error)));
    QCOMPARE(int(packet.value.type), type);
    QVERIFY(packet.value.versionMatches());
    QCOMPARE(packet.value.udt.sequenceNumber, sequenceNumber);
    const auto decoded = IcePingReply::fromPayload(packet.value.payload);
    QVERIFY2(decoded.ok(), qPrintable(wireErrorString(decoded.error)));
    QCOMPARE(decoded.value.senderID, senderID);
    QCOMPARE(int(decoded.value.pingType), pingType);
}

void tst_IceGolden::peerInformation_data() {
    QTest::addColumn<QUuid>("uuid");
    QTest::addColumn<SockAddr>("publicSocket");
    QTest::addColumn<SockAddr>("localSocket");
    QTest::addColumn<QByteArray>("datagram");

    const QByteArray head = "01 00 00 00 16 11 ";
    QTest::newRow("section 2.5 example") << golden::domainID() << golden::domainPublic() << golden::domainLocal()
                                         << golden::peerInformation();
    QTest::newRow("client record for the domain")
        << golden::clientID() << golden::clientPublic() << golden::clientLocal()
        << h(head + kClient + kClientPublic + kClientLocal);
    QTest::newRow("ipv6 with and without scope id")
        << golden::domainID() << v6("2001:db8::1", 40102) << v6("fe80::2", 40102, QStringLiteral("eth0"))
        << h(head + kDomain + kV6Doc + kV6Eth0);
    QTest::newRow("v4-mapped ipv6 stays ipv6")
        << golden::domainID() << v6("::ffff:198.51.100.7", 40102) << golden::domainLocal()
        << h(head + kDomain + "01 00 00 00 00 00 00 00 00 00 00 ff ff c6 33 64 07 ff ff ff ff 9c a6 " + kDomainLocal);
    QTest::newRow("null public, null local with port")
        << golden::domainID() << SockAddr() << SockAddr(QHostAddress(), 40102)
        << h(head + kDomain + "ff 00 00 ff 9c a6");
}

void tst_IceGolden::peerInformation() {
    QFETCH(QUuid, uuid);
    QFETCH(SockAddr, publicSocket);
    QFETCH(SockAddr, localSocket);
    QFETCH(QByteArray, datagram);
    const NetworkPeer peer(uuid, publicSocket, localSocket);

    QCOMPARE(datagramFor(PacketType::ICEServerPeerInformation, 1, peer.toByteArray()).toHex(' '), datagram.toHex(' '));

    const auto packet = NLDatagram::fromDatagram(datagram);
    QVERIFY2(packet.ok(), qPrintable(wireErrorString(packet.error)));
    QCOMPARE(packet.value.type, PacketType::ICEServerPeerInformation);
    QVERIFY(packet.value.versionMatches());
    QCOMPARE(packet.value.udt.sequenceNumber, 1u);
    const auto decoded = NetworkPeer::fromByteArray(packet.value.payload);
    QVERIFY2(decoded.ok(), qPrintable(wireErrorString(decoded.error)));
    QVERIFY(decoded.value == peer);
    QCOMPARE(decoded.value.getUUID(), peer.getUUID());
    QVERIFY(sameSockAddr(decoded.value.getPublicSocket(), peer.getPublicSocket()));
    QVERIFY(sameSockAddr(decoded.value.getLocalSocket(), peer.getLocalSocket()));
    // Only the three reported fields travel: nothing is active on a freshly decoded peer.
    QVERIFY(decoded.value.getActiveSocket() == nullptr);
}

void tst_IceGolden::heartbeat_data() {
    QTest::addColumn<SockAddr>("publicSocket");
    QTest::addColumn<SockAddr>("localSocket");
    QTest::addColumn<QByteArray>("signature");
    QTest::addColumn<int>("plaintextSize");
    QTest::addColumn<QByteArray>("datagram");

    const QByteArray head = "01 00 00 00 26 12 ";
    QTest::newRow("section 2.5 example, 256-byte signature")
        << golden::domainPublic() << golden::domainLocal() << golden::signature256() << 30 << golden::heartbeat();
    QTest::newRow("ipv6 public, ipv6 scoped local")
        << v6("2001:db8::1", 40102) << v6("fe80::2", 40102, QStringLiteral("eth0")) << QByteArray("sig") << 16 + 23 + 31
        << h(head + kDomain + kV6Doc + kV6Eth0 + "00 00 00 03 73 69 67");
    QTest::newRow("null public before STUN, null signature")
        << SockAddr() << golden::domainLocal() << QByteArray() << 16 + 3 + 7
        << h(head + kDomain + "ff 00 00 " + kDomainLocal + "ff ff ff ff");
    QTest::newRow("null local with port, empty signature")
        << golden::domainPublic() << SockAddr(QHostAddress(), 40102) << QByteArray("") << 16 + 7 + 3
        << h(head + kDomain + kDomainPublic + "ff 9c a6 00 00 00 00");
}

void tst_IceGolden::heartbeat() {
    QFETCH(SockAddr, publicSocket);
    QFETCH(SockAddr, localSocket);
    QFETCH(QByteArray, signature);
    QFETCH(int, plaintextSize);
    QFETCH(QByteArray, datagram);

    IceServerHeartbeat hb;
    hb.domainID = golden::domainID();
    hb.publicSocket = publicSocket;
    hb.localSocket = localSocket;
    hb.signature = signature;
    QCOMPARE(datagramFor(PacketType::ICEServerHeartbeat, 1, hb.toPayload()).toHex(' '), datagram.toHex(' '));
    const QByteArray payload = datagram.mid(6);
    QCOMPARE(IceServerHeartbeat::signedPlaintext(hb.domainID, publicSocket, localSocket), payload.left(plaintextSize));

    const auto packet = NLDatagram::fromDatagram(datagram);
    QVERIFY2(packet.ok(), qPrintable(wireErrorString(packet.error)));
    QCOMPARE(packet.value.type, PacketType::ICEServerHeartbeat);
    QVERIFY(packet.value.versionMatches());
    QCOMPARE(packet.value.payload, payload);
    const auto decoded = IceServerHeartbeat::fromPayload(packet.value.payload);
    QVERIFY2(decoded.ok(), qPrintable(wireErrorString(decoded.error)));
    QCOMPARE(decoded.value.domainID, golden::domainID());
    QVERIFY(sameSockAddr(decoded.value.publicSocket, publicSocket));
    QVERIFY(sameSockAddr(decoded.value.localSocket, localSocket));
    QCOMPARE(decoded.value.signature, signature);
    QCOMPARE(decoded.value.signature.isNull(), signature.isNull());
    QCOMPARE(decoded.value.plaintext, payload.left(plaintextSize));
}

// Section 3.1: the signature covers exactly payload bytes [0,30) of the example, nothing of the
// header and nothing of the length prefix.
void tst_IceGolden::heartbeatPlaintextIsSignedRange() {
    const QByteArray datagram = golden::heartbeat();
    QCOMPARE(int(datagram.size()), 296);
    const QByteArray payload = datagram.mid(6);
    const auto decoded = IceServerHeartbeat::fromPayload(payload);
    QVERIFY2(decoded.ok(), qPrintable(wireErrorString(decoded.error)));
    QCOMPARE(int(decoded.value.plaintext.size()), 30);
    QCOMPARE(decoded.value.plaintext, payload.left(30));
    QCOMPARE(decoded.value.plaintext.toHex(' '), QByteArray((kDomain + kDomainPublic + kDomainLocal).trimmed()));
    QCOMPARE(payload.mid(30, 4), hex("00 00 01 00"));
    QCOMPARE(decoded.value.signature, payload.mid(34));
}

void tst_IceGolden::emptyPayload_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<quint32>("sequenceNumber");
    QTest::addColumn<QByteArray>("datagram");

    QTest::newRow("ICEServerHeartbeatACK") << int(PacketType::ICEServerHeartbeatACK) << 1u << golden::heartbeatAck();
    QTest::newRow("ICEServerHeartbeatDenied")
        << int(PacketType::ICEServerHeartbeatDenied) << 1u << golden::heartbeatDenied();
    QTest::newRow("ICEServerHeartbeatACK seq 2")
        << int(PacketType::ICEServerHeartbeatACK) << 2u << hex("02 00 00 00 3f 11");
    QTest::newRow("ICEServerHeartbeatDenied seq 0x10203")
        << int(PacketType::ICEServerHeartbeatDenied) << 0x10203u << hex("03 02 01 00 3c 11");
}

void tst_IceGolden::emptyPayload() {
    QFETCH(int, type);
    QFETCH(quint32, sequenceNumber);
    QFETCH(QByteArray, datagram);

    QCOMPARE(datagramFor(PacketType(type), sequenceNumber, QByteArray()).toHex(' '), datagram.toHex(' '));
    const auto packet = NLDatagram::fromDatagram(datagram);
    QVERIFY2(packet.ok(), qPrintable(wireErrorString(packet.error)));
    QCOMPARE(int(packet.value.type), type);
    QVERIFY(packet.value.versionMatches());
    QCOMPARE(packet.value.udt.sequenceNumber, sequenceNumber);
    QCOMPARE(checkEmptyPayload(packet.value.payload), WireError::NoError);
}

void tst_IceGolden::udtHeader_data() {
    QTest::addColumn<bool>("reliable");
    QTest::addColumn<bool>("message");
    QTest::addColumn<int>("position");
    QTest::addColumn<quint32>("messageNumber");
    QTest::addColumn<quint32>("partNumber");
    QTest::addColumn<quint32>("sequenceNumber");
    QTest::addColumn<QByteArray>("datagram");

    using Pos = UdtHeader::MessagePosition;
    // An ACK (type 0x3f, version 0x11) under each header; words are little-endian.
    QTest::newRow("seq 0") << false << false << 0 << 0u << 0u << 0u << hex("00 00 00 00 3f 11");
    QTest::newRow("seq 1") << false << false << 0 << 0u << 0u << 1u << hex("01 00 00 00 3f 11");
    QTest::newRow("seq 0x123456") << false << false << 0 << 0u << 0u << 0x123456u << hex("56 34 12 00 3f 11");
    QTest::newRow("seq 27-bit max") << false << false << 0 << 0u << 0u << 0x07FFFFFFu << hex("ff ff ff 07 3f 11");
    QTest::newRow("reliable") << true << false << 0 << 0u << 0u << 1u << hex("01 00 00 40 3f 11");
    QTest::newRow("message Only") << false << true << int(Pos::Only) << 1u << 0u << 1u
                                  << hex("01 00 00 20  01 00 00 00  00 00 00 00  3f 11");
    QTest::newRow("message First") << false << true << int(Pos::First) << 0x12345u << 7u << 5u
                                   << hex("05 00 00 20  45 23 01 80  07 00 00 00  3f 11");
    QTest::newRow("message Middle, max numbers") << false << true << int(Pos::Middle) << 0x3FFFFFFFu << 0xFFFFFFFFu
                                                 << 6u << hex("06 00 00 20  ff ff ff ff  ff ff ff ff  3f 11");
    QTest::newRow("message Last") << false << true << int(Pos::Last) << 2u << 9u << 7u
                                  << hex("07 00 00 20  02 00 00 40  09 00 00 00  3f 11");
    QTest::newRow("reliable message First, max seq") << true << true << int(Pos::First) << 0u << 1u << 0x07FFFFFFu
                                                     << hex("ff ff ff 67  00 00 00 80  01 00 00 00  3f 11");
}

void tst_IceGolden::udtHeader() {
    QFETCH(bool, reliable);
    QFETCH(bool, message);
    QFETCH(int, position);
    QFETCH(quint32, messageNumber);
    QFETCH(quint32, partNumber);
    QFETCH(quint32, sequenceNumber);
    QFETCH(QByteArray, datagram);

    NLDatagram packet = NLDatagram::create(PacketType::ICEServerHeartbeatACK);
    packet.udt.reliable = reliable;
    packet.udt.message = message;
    packet.udt.messagePosition = UdtHeader::MessagePosition(position);
    packet.udt.messageNumber = messageNumber;
    packet.udt.messagePartNumber = partNumber;
    packet.udt.sequenceNumber = sequenceNumber;
    QCOMPARE(packet.udt.size(), message ? 12 : 4);
    QCOMPARE(packet.toDatagram().toHex(' '), datagram.toHex(' '));

    const auto decoded = NLDatagram::fromDatagram(datagram);
    QVERIFY2(decoded.ok(), qPrintable(wireErrorString(decoded.error)));
    QVERIFY(decoded.value.udt == packet.udt);
    QCOMPARE(decoded.value.udt.sequenceNumber, sequenceNumber);
    QCOMPARE(int(decoded.value.udt.messagePosition), message ? position : 0);
    QCOMPARE(decoded.value.type, PacketType::ICEServerHeartbeatACK);
    QVERIFY(decoded.value.payload.isEmpty());
}

void tst_IceGolden::obfuscation_data() {
    QTest::addColumn<int>("level");
    QTest::addColumn<QByteArray>("plain");
    QTest::addColumn<QByteArray>("obfuscated"); // empty: compare with obfuscateByHand()

    // Level 1 worked by hand from section 2.1: 27^74=53, 12^65=77, 11^73=62, 22^73=51, 33^69=5a,
    // 44^72=36, 55^62=37, 66^63=05, then the key starts over at 77^74=03 ... 02^73=71.
    QTest::newRow("ICEPing level 1 (by hand)")
        << 1 << golden::ping() << hex("03 00 00 08  53 77 62 51 5a 36 37 05 03 ed ea d9 d2 be bf 8d 8b 65 71");
    QTest::newRow("ICEPing level 2") << 2 << golden::ping()
                                     << hex("03 00 00 10  46 76 63 43 41 2d 37 15 16 ec eb cb c9 a5 bf 9d 9e 64 70");
    QTest::newRow("ICEPing level 3") << 3 << golden::ping()
                                     << hex("03 00 00 18  49 73 7c 44 55 31 3d 14 19 e9 f4 cc dd b9 b5 9c 91 61 6f");
    // With M=1 the key starts after the 12-byte header: 3f^74=4b, 11^65=74.
    QTest::newRow("message header, level 1") << 1 << hex("01 00 00 20  05 00 00 00  00 00 00 00  3f 11")
                                             << hex("01 00 00 28  05 00 00 00  00 00 00 00  4b 74");
    for (int level = 1; level <= 3; ++level) {
        for (const auto &example : golden::iceDatagrams()) {
            QTest::addRow("%s level %d", example.name, level) << level << example.bytes << QByteArray();
        }
    }
}

void tst_IceGolden::obfuscation() {
    QFETCH(int, level);
    QFETCH(QByteArray, plain);
    QFETCH(QByteArray, obfuscated);

    const auto original = NLDatagram::fromDatagram(plain);
    QVERIFY2(original.ok(), qPrintable(wireErrorString(original.error)));
    const int udtSize = original.value.udt.size();
    if (obfuscated.isEmpty()) {
        obfuscated = obfuscateByHand(plain, level, udtSize);
    }
    QCOMPARE(obfuscateByHand(plain, level, udtSize).toHex(' '),
             obfuscated.toHex(' ')); // the oracle agrees with the hand rows

    NLDatagram packet = original.value;
    packet.udt.obfuscationLevel = quint8(level);
    QCOMPARE(packet.toDatagram().toHex(' '), obfuscated.toHex(' '));

    const auto decoded = NLDatagram::fromDatagram(obfuscated);
    QVERIFY2(decoded.ok(), qPrintable(wireErrorString(decoded.error)));
    QCOMPARE(int(decoded.value.udt.obfuscationLevel), level);
    QCOMPARE(decoded.value.type, original.value.type);
    QCOMPARE(decoded.value.version, original.value.version);
    QCOMPARE(decoded.value.udt.sequenceNumber, original.value.udt.sequenceNumber);
    QCOMPARE(decoded.value.payload, original.value.payload);

    // applyObfuscation is its own inverse.
    QByteArray twice = obfuscated;
    applyObfuscation(twice, udtSize, quint8(level));
    QCOMPARE(twice.mid(udtSize), plain.mid(udtSize));
}

QTEST_GUILESS_MAIN(tst_IceGolden)
#include "tst_icegolden.moc"

// Malformed input for every wire decoder: truncations, bad lengths, bad enum bytes, trailing
// bytes, oversized and control datagrams, unknown types and a long run of seeded garbage.
// A decoder must answer each with the right WireError, never crash and never accept garbage.
#include "WireGolden.h"
#include "WireInvariants.h"

#include <IcePackets.h>
#include <NLDatagram.h>

#include <QtCore/QRandomGenerator>
#include <QtTest/QtTest>

using golden::errorName;
using golden::hex;

namespace {

// What a receiver does with a datagram: the NL header, then the payload codec of its type.
WireError decodeDatagram(const QByteArray &datagram) {
    const auto packet = NLDatagram::fromDatagram(datagram);
    if (!packet.ok()) {
        return packet.error;
    }
    const QByteArray &payload = packet.value.payload;
    switch (packet.value.type) {
    case PacketType::ICEServerQuery: return IceServerQuery::fromPayload(payload).error;
    case PacketType::ICEPing:
    case PacketType::ICEPingReply: return IcePing::fromPayload(payload).error;
    case PacketType::ICEServerPeerInformation: return NetworkPeer::fromByteArray(payload).error;
    case PacketType::ICEServerHeartbeat: return IceServerHeartbeat::fromPayload(payload).error;
    case PacketType::ICEServerHeartbeatACK:
    case PacketType::ICEServerHeartbeatDenied: return checkEmptyPayload(payload);
    default: return WireError::NoError;
    }
}

enum class Codec { Heartbeat, Query, Peer };

WireError decodePayload(Codec codec, const QByteArray &payload) {
    switch (codec) {
    case Codec::Heartbeat: return IceServerHeartbeat::fromPayload(payload).error;
    case Codec::Query: return IceServerQuery::fromPayload(payload).error;
    case Codec::Peer: return NetworkPeer::fromByteArray(payload).error;
    }
    return WireError::NoError;
}

const QByteArray kDomain = hex("6b a7 b8 10 9d ad 11 d1 80 b4 00 c0 4f d4 30 c8");
const QByteArray kV4 = hex("00 0a 00 00 02 9c a6");
const QByteArray kV6Prefix = hex("01 fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02");

QByteArray be32(quint32 v) {
    QByteArray out;
    ByteWriter(out).writeU32BE(v);
    return out;
}

} // namespace

class tst_WireMalformed : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void goldenDatagramsDecode_data();
    void goldenDatagramsDecode();
    void truncation_data();
    void truncation();
    void versionMismatch_data();
    void versionMismatch();
    void trailingBytes_data();
    void trailingBytes();
    void oversizedLengths_data();
    void oversizedLengths();
    void unknownAddressProtocol();
    void pingTypeOutOfRange();
    void oversizedDatagram();
    void controlPacket_data();
    void controlPacket();
    void unknownType();
    void garbage();
    void seedCorpus();
};

void tst_WireMalformed::goldenDatagramsDecode_data() {
    QTest::addColumn<QByteArray>("datagram");
    for (const auto &example : golden::iceDatagrams()) {
        QTest::newRow(example.name) << example.bytes;
    }
}

// The starting point of every row below: the unmodified datagram is accepted.
void tst_WireMalformed::goldenDatagramsDecode() {
    QFETCH(QByteArray, datagram);
    QCOMPARE(decodeDatagram(datagram), WireError::NoError);
    const auto report = wireinvariants::check(datagram);
    QVERIFY2(report.violation.isEmpty(), qPrintable(report.violation));
}

void tst_WireMalformed::truncation_data() {
    goldenDatagramsDecode_data();
}

// Every field of every ICE payload is mandatory, so each cut short of the full datagram is Truncated.
void tst_WireMalformed::truncation() {
    QFETCH(QByteArray, datagram);
    for (int length = 0; length < datagram.size(); ++length) {
        const QByteArray cut = datagram.left(length);
        const WireError error = decodeDatagram(cut);
        QVERIFY2(error == WireError::Truncated,
                 qPrintable(QStringLiteral("length %1: %2").arg(length).arg(wireErrorString(error))));
        const auto report = wireinvariants::check(cut);
        QVERIFY2(report.violation.isEmpty(), qPrintable(report.violation));
    }
}

void tst_WireMalformed::versionMismatch_data() {
    goldenDatagramsDecode_data();
}

// The version is decoded, not enforced: the receiver sees the mismatch and decides.
void tst_WireMalformed::versionMismatch() {
    QFETCH(QByteArray, datagram);
    const quint8 good = quint8(datagram[5]);
    for (const quint8 version : { quint8(0), quint8(good - 1), quint8(good + 1), quint8(0xff) }) {
        QByteArray bad = datagram;
        bad[5] = char(version);
        const auto packet = NLDatagram::fromDatagram(bad);
        QVERIFY2(packet.ok(), errorName(packet.error));
        QCOMPARE(packet.value.version, version);
        QVERIFY(!packet.value.versionMatches());
        QCOMPARE(packet.value.payload, datagram.mid(6));
        QCOMPARE(decodeDatagram(bad), WireError::NoError);
    }
}

void tst_WireMalformed::trailingBytes_data() {
    QTest::addColumn<QByteArray>("datagram");
    for (const auto &example : golden::iceDatagrams()) {
        QTest::addRow("%s +1", example.name) << example.bytes + QByteArray(1, '\0');
        QTest::addRow("%s +4", example.name) << example.bytes + hex("de ad be ef");
    }
}

void tst_WireMalformed::trailingBytes() {
    QFETCH(QByteArray, datagram);
    QCOMPARE(decodeDatagram(datagram), WireError::TrailingBytes);
}

void tst_WireMalformed::oversizedLengths_data() {
    QTest::addColumn<int>("codec");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<int>("expected"); // a WireError

    const QByteArray plain = kDomain + kV4 + kV4;
    const int hb = int(Codec::Heartbeat);
    QTest::newRow("signature length 0xfffffff0")
        << hb << plain + be32(0xFFFFFFF0u) + QByteArray(16, 'x') << int(WireError::Oversized);
    QTest::newRow("signature length 0x7fffffff") << hb << plain + be32(0x7FFFFFFFu) << int(WireError::Oversized);
    QTest::newRow("signature length 1025, all present")
        << hb << plain + be32(1025) + QByteArray(1025, 'x') << int(WireError::Oversized);
    QTest::newRow("signature length 1024, all present")
        << hb << plain + be32(1024) + QByteArray(1024, 'x') << int(WireError::NoError);
    QTest::newRow("signature length 256, 10 present")
        << hb << plain + be32(256) + QByteArray(10, 'x') << int(WireError::Truncated);
    QTest::newRow("signature length 0xfffffffe") << hb << plain + be32(0xFFFFFFFEu) << int(WireError::Oversized);

    // An IPv6 scope id is a QString: u32 byte length, UTF-16 code units. ffffffff is null.
    const int peer = int(Codec::Peer);
    QTest::newRow("scope length 0xfffffff0")
        << peer << kDomain + kV6Prefix + be32(0xFFFFFFF0u) + hex("9c a6") + kV4 << int(WireError::Truncated);
    QTest::newRow("scope length 0x80000000")
        << peer << kDomain + kV6Prefix + be32(0x80000000u) + hex("9c a6") + kV4 << int(WireError::Truncated);
    QTest::newRow("scope length odd (3), present")
        << peer << kDomain + kV6Prefix + be32(3) + hex("00 65 00 9c a6") + kV4 << int(WireError::BadAddress);
    QTest::newRow("scope length 66, present")
        << peer << kDomain + kV6Prefix + be32(66) + QByteArray(66, 'a') + hex("9c a6") + kV4
        << int(WireError::BadAddress);
    QTest::newRow("scope length 64, present")
        << peer << kDomain + kV6Prefix + be32(64) + QByteArray(64, 'a') + hex("9c a6") + kV4 << int(WireError::NoError);
    QTest::newRow("scope length 8, 4 present")
        << peer << kDomain + kV6Prefix + be32(8) + hex("00 65 00 74") << int(WireError::Truncated);
    QTest::newRow("scope length 0") << peer << kDomain + kV6Prefix + be32(0) + hex("9c a6") + kV4
                                    << int(WireError::NoError);

    const int query = int(Codec::Query);
    QTest::newRow("query: scope length huge")
        << query << kDomain + kV6Prefix + be32(0x7FFFFFF0u) + hex("9c a6") + kV4 + kDomain << int(WireError::Truncated);
    QTest::newRow("heartbeat: scope length odd")
        << hb << kDomain + kV4 + kV6Prefix + be32(5) + QByteArray(5, 'a') + hex("9c a6") + be32(0)
        << int(WireError::BadAddress);
}

void tst_WireMalformed::oversizedLengths() {
    QFETCH(int, codec);
    QFETCH(QByteArray, payload);
    QFETCH(int, expected);
    const WireError error = decodePayload(Codec(codec), payload);
    QVERIFY2(error == WireError(expected), errorName(error));
    const auto report = wireinvariants::check(payload);
    QVERIFY2(report.violation.isEmpty(), qPrintable(report.violation));
}

// QHostAddress's protocol byte is 0 (IPv4), 1 (IPv6), 2 (any) or ff (unknown/null); the rest are bad.
void tst_WireMalformed::unknownAddressProtocol() {
    for (int protocol = 0; protocol < 256; ++protocol) {
        QByteArray socket = kV4;
        socket[0] = char(protocol);
        const QByteArray peerPublic = kDomain + socket + kV4;
        const QByteArray peerLocal = kDomain + kV4 + socket;
        const QByteArray queryPublic = kDomain + socket + kV4 + kDomain;
        const QByteArray heartbeatLocal = kDomain + kV4 + socket + be32(0);
        const QList<QPair<Codec, QByteArray>> cases = {
            { Codec::Peer, peerPublic },
            { Codec::Peer, peerLocal },
            { Codec::Query, queryPublic },
            { Codec::Heartbeat, heartbeatLocal },
        };
        for (const auto &c : cases) {
            const WireError error = decodePayload(c.first, c.second);
            if (protocol == 0) {
                QCOMPARE(error, WireError::NoError);
            } else if (protocol >= 3 && protocol <= 0xfe) {
                QVERIFY2(error == WireError::BadAddress, qPrintable(QString::number(protocol)));
            } else {
                // 1, 2 and ff are valid protocols that give the following bytes another meaning;
                // the decoder must still refuse the misaligned remainder.
                QVERIFY2(error != WireError::NoError, qPrintable(QString::number(protocol)));
            }
            const auto report = wireinvariants::check(c.second);
            QVERIFY2(report.violation.isEmpty(), qPrintable(report.violation));
        }
    }
}

void tst_WireMalformed::pingTypeOutOfRange() {
    for (int type = 0; type < 256; ++type) {
        QByteArray datagram = golden::ping();
        datagram[22] = char(type);
        const auto ping = IcePing::fromPayload(datagram.mid(6));
        if (type <= 3) {
            QVERIFY(ping.ok());
            QCOMPARE(int(ping.value.pingType), type);
        } else {
            QVERIFY2(ping.error == WireError::BadValue, qPrintable(QString::number(type)));
        }
        datagram = golden::pingReply();
        datagram[22] = char(type);
        QCOMPARE(decodeDatagram(datagram), type <= 3 ? WireError::NoError : WireError::BadValue);
    }
}

void tst_WireMalformed::oversizedDatagram() {
    // MAX_PACKET_SIZE is the largest datagram; one byte more is refused before any parsing.
    QByteArray largest = golden::heartbeatAck() + QByteArray(MAX_PACKET_SIZE - 6, '\0');
    QCOMPARE(int(largest.size()), 1392);
    const auto atLimit = NLDatagram::fromDatagram(largest);
    QVERIFY(atLimit.ok());
    QCOMPARE(int(atLimit.value.payload.size()), MAX_PACKET_SIZE - 6);
    QCOMPARE(checkEmptyPayload(atLimit.value.payload), WireError::TrailingBytes);

    QCOMPARE(NLDatagram::fromDatagram(largest + '\0').error, WireError::Oversized);
    QByteArray bigHeartbeat = golden::heartbeat();
    bigHeartbeat.append(QByteArray(MAX_PACKET_SIZE + 1 - bigHeartbeat.size(), 'x'));
    QCOMPARE(NLDatagram::fromDatagram(bigHeartbeat).error, WireError::Oversized);
    QCOMPARE(NLDatagram::fromDatagram(QByteArray(65507, '\0')).error, WireError::Oversized);
    // Oversized wins over a control bit: the size is checked first.
    QCOMPARE(NLDatagram::fromDatagram(QByteArray(2000, '\xff')).error, WireError::Oversized);
}

void tst_WireMalformed::controlPacket_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::newRow("bare control word") << hex("00 00 00 80");
    QTest::newRow("all bits set") << hex("ff ff ff ff 3f 11");
    QTest::newRow("ICEPing with C") << hex("03 00 00 80") + golden::ping().mid(4);
    QTest::newRow("heartbeat with C and M") << hex("01 00 00 a0") + golden::heartbeat().mid(4);
}

void tst_WireMalformed::controlPacket() {
    QFETCH(QByteArray, datagram);
    QCOMPARE(NLDatagram::fromDatagram(datagram).error, WireError::ControlPacket);
    QCOMPARE(decodeDatagram(datagram), WireError::ControlPacket);
}

void tst_WireMalformed::unknownType() {
    int unknown = 0;
    for (int byte = 0; byte < 256; ++byte) {
        if (isKnownPacketType(quint8(byte))) {
            continue;
        }
        ++unknown;
        const QByteArray datagram = hex("01 00 00 00") + char(byte) + hex("11 aa bb");
        const auto packet = NLDatagram::fromDatagram(datagram);
        QCOMPARE(packet.error, WireError::UnknownType);
        QCOMPARE(int(packet.value.type), byte); // kept so the caller can count it
        QCOMPARE(int(packet.value.version), 0x11);
        QCOMPARE(int(packet.value.udt.sequenceNumber), 1);
        // Without its version byte the header itself is cut short.
        QCOMPARE(NLDatagram::fromDatagram(datagram.left(5)).error, WireError::Truncated);
    }
    QCOMPARE(unknown, 256 - packetTypeTableSize());

    // Under obfuscation the type is read after de-obfuscation: STUN's 0x21 XOR the level-1 key byte.
    const auto obfuscated = NLDatagram::fromDatagram(hex("01 00 00 08") + char(0x21 ^ 0x74) + char(0x11 ^ 0x65));
    QCOMPARE(obfuscated.error, WireError::UnknownType);
    QCOMPARE(int(obfuscated.value.type), 0x21);
    QCOMPARE(int(obfuscated.value.version), 0x11);
}

// Seeded garbage through every decoder. Three shapes: pure noise, mutated golden datagrams (to get
// past the headers into the payload codecs) and STUN-shaped noise. Override the seed with
// ICEBREAKER_WIRE_SEED to reproduce a failure.
void tst_WireMalformed::garbage() {
    quint32 seed = 20240517;
    if (qEnvironmentVariableIsSet("ICEBREAKER_WIRE_SEED")) {
        seed = quint32(qEnvironmentVariableIntValue("ICEBREAKER_WIRE_SEED"));
    }
    qInfo("garbage seed %u (set ICEBREAKER_WIRE_SEED to replay)", seed);
    QRandomGenerator rng(seed);

    const auto examples = golden::iceDatagrams();
    const int runs = 100000;
    int accepted = 0;
    int nlAccepted = 0;
    for (int run = 0; run < runs; ++run) {
        QByteArray datagram;
        const int shape = run % 10;
        if (shape < 4) {
            datagram.resize(int(rng.bounded(1500)));
            for (char &c : datagram) {
                c = char(rng.bounded(256));
            }
        } else if (shape < 9) {
            datagram = examples.at(int(rng.bounded(int(examples.size())))).bytes;
            const int flips = 1 + int(rng.bounded(4));
            for (int i = 0; i < flips && !datagram.isEmpty(); ++i) {
                const int at = int(rng.bounded(int(datagram.size())));
                datagram[at] = char(rng.bounded(256));
            }
            if (rng.bounded(4) == 0) {
                datagram.truncate(int(rng.bounded(int(datagram.size()) + 1)));
            } else if (rng.bounded(4) == 0) {
                const int extra = int(rng.bounded(8)); // one draw per statement: same inputs with any compiler
                datagram.append(QByteArray(extra, char(rng.bounded(256))));
            }
        } else {
            const int attributes = int(rng.bounded(48)) * 4;
            QByteArray body(attributes, '\0');
            for (char &c : body) {
                c = char(rng.bounded(256));
            }
            if (body.size() >= 4 && rng.bounded(2)) {
                body[0] = 0x00;
                body[1] = char(rng.bounded(2) ? 0x20 : 0x01);
            }
            datagram = hex("01 01") + char(body.size() >> 8) + char(body.size() & 0xff) + hex("21 12 a4 42")
                       + QByteArray(12, char(run)) + body;
        }
        const auto report = wireinvariants::check(datagram);
        QVERIFY2(report.violation.isEmpty(),
                 qPrintable(QStringLiteral("run %1: %2; input %3")
                                .arg(run)
                                .arg(report.violation, QString::fromLatin1(datagram.toHex()))));
        accepted += report.accepted > 0 ? 1 : 0;
        nlAccepted += NLDatagram::fromDatagram(datagram).ok() ? 1 : 0;
    }
    qInfo("garbage: %d of %d inputs accepted by some decoder, %d as NL packets", accepted, runs, nlAccepted);
    // The mutations must reach the payload codecs, or the run proves nothing about them.
    QVERIFY(nlAccepted > runs / 10);
}

// The fuzzer's committed seeds (tests/fuzz/corpus/datagram) are the golden packets: each is accepted
// by some decoder, and every ICE example of WireGolden.h is among them.
void tst_WireMalformed::seedCorpus() {
    const QByteArray source = qgetenv("ICEBREAKER_SOURCE_DIR");
    QVERIFY2(!source.isEmpty(), "run through ctest, which sets ICEBREAKER_SOURCE_DIR");
    QDir dir(QString::fromLocal8Bit(source) + QStringLiteral("/tests/fuzz/corpus/datagram"));
    const QStringList files = dir.entryList(QDir::Files);
    QVERIFY(files.size() >= 10);
    QList<QByteArray> seeds;
    for (const QString &name : files) {
        QFile file(dir.filePath(name));
        QVERIFY(file.open(QIODevice::ReadOnly));
        seeds.append(file.readAll());
        const auto report = wireinvariants::check(seeds.last());
        QVERIFY2(report.violation.isEmpty(), qPrintable(name + QStringLiteral(": ") + report.violation));
        QVERIFY2(report.accepted > 0, qPrintable(name));
    }
    for (const auto &example : golden::iceDatagrams()) {
        QVERIFY2(seeds.contains(example.bytes), example.name);
    }
}

QTEST_GUILESS_MAIN(tst_WireMalformed)
#include "tst_wiremalformed.moc"

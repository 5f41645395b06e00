// The ice-server's hot path reads plain heartbeats and queries in place and forwards a querier's
// record as received instead of decoding and re-encoding it. That is only sound if the shortcuts
// agree with the full decoders on every input; these properties check it over the fuzzer's seed
// corpus, the protocol's worked examples, and every truncation and many byte mutations of them.
#include <IcePackets.h>
#include <NLDatagram.h>

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtTest/QtTest>

namespace {
QByteArray hex(const char *text) {
    return QByteArray::fromHex(QByteArray(text));
}

QByteArray queryPayload(const SockAddr &publicSocket, const SockAddr &localSocket) {
    const IceServerQuery query { QUuid(QStringLiteral("{11223344-5566-7788-99aa-bbccddeeff00}")), publicSocket,
                                 localSocket, QUuid(QStringLiteral("{6ba7b810-9dad-11d1-80b4-00c04fd430c8}")) };
    return query.toPayload();
}

// Seeds: the corpus datagrams, their payloads (after the 6-byte ICE header), and query payloads
// with every address form the wire has (IPv4, IPv6 with null, empty and non-empty scope ids, Any,
// null), some of them hand-written so they do not depend on the encoder.
QList<QByteArray> seeds() {
    QList<QByteArray> out;
    const QDir corpus(qEnvironmentVariable("ICEBREAKER_SOURCE_DIR") + QStringLiteral("/tests/fuzz/corpus/datagram"));
    for (const QString &name : corpus.entryList(QDir::Files)) {
        QFile file(corpus.filePath(name));
        if (file.open(QIODevice::ReadOnly)) {
            const QByteArray datagram = file.readAll();
            out << datagram << datagram.mid(6);
        }
    }
    const SockAddr v4(QHostAddress(QStringLiteral("203.0.113.5")), 40102);
    QHostAddress scoped(QStringLiteral("fe80::1"));
    scoped.setScopeId(QStringLiteral("eth0"));
    out << queryPayload(v4, SockAddr(QHostAddress(QStringLiteral("2001:db8::7")), 1))
        << queryPayload(SockAddr(scoped, 9), v4)
        << queryPayload(SockAddr(QHostAddress(QHostAddress::Any), 5), SockAddr())
        << queryPayload(SockAddr(QHostAddress(QStringLiteral("::ffff:10.0.0.1")), 7), v4);
    // IPv6 with an empty (not null) scope id, and a 64-byte one: both accepted by the decoder.
    const QByteArray id = hex("112233445566778899aabbccddeeff00");
    const QByteArray v6 = hex("01 20010db8000000000000000000000001");
    out << id + v6 + hex("00000000 1234") + hex("ff 0001") + id;
    out << id + v6 + hex("00000040") + QByteArray(64, 'a') + hex("1234") + hex("02 0001") + id;
    return out;
}

// Every truncation and, per byte, a handful of replacements chosen to hit the protocol bytes,
// lengths and flags (0x00, 0x01, 0x02, 0xff, the byte with its top bit flipped).
QList<QByteArray> variants(const QByteArray &seed) {
    QList<QByteArray> out { seed };
    for (int n = 0; n < seed.size(); ++n) {
        out << seed.left(n);
    }
    for (int i = 0; i < seed.size() && i < 96; ++i) {
        for (const char value : { char(0x00), char(0x01), char(0x02), char(0xff), char(seed[i] ^ 0x80) }) {
            QByteArray mutated = seed;
            mutated[i] = value;
            out << mutated;
        }
    }
    return out;
}
} // namespace

class tst_HotPath : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void queryScanAgreesWithDecoder() {
        int accepted = 0;
        int checked = 0;
        for (const QByteArray &seed : seeds()) {
            for (const QByteArray &payload : variants(seed)) {
                ++checked;
                const IceServerQuery::Scanned scanned = IceServerQuery::scan(payload);
                const Decoded<IceServerQuery> decoded = IceServerQuery::fromPayload(payload);
                QCOMPARE(scanned.error, decoded.error);
                if (!decoded.ok()) {
                    continue;
                }
                ++accepted;
                const IceServerQuery &q = decoded.value;
                QCOMPARE(scanned.domainID, q.domainID);
                // What upstream sends the domain (a re-encode) is exactly the bytes received.
                QCOMPARE(payload.left(scanned.recordSize).toHex(),
                         NetworkPeer(q.clientID, q.publicSocket, q.localSocket).toByteArray().toHex());
            }
        }
        qInfo("%d payloads, %d accepted", checked, accepted);
        QVERIFY(accepted > 100);
    }

    void sockAddrSkipAgreesWithDecode() {
        for (const QByteArray &seed : seeds()) {
            for (const QByteArray &bytes : variants(seed.mid(16))) { // start at the first address
                ByteReader skipper(bytes);
                ByteReader decoder(bytes);
                const bool skipped = SockAddr::skip(skipper);
                const SockAddr address = SockAddr::decode(decoder);
                QCOMPARE(skipped, decoder.ok());
                QCOMPARE(skipper.error(), decoder.error());
                if (skipped) {
                    QCOMPARE(skipper.position(), decoder.position());
                    QByteArray reencoded;
                    ByteWriter writer(reencoded);
                    address.encode(writer);
                    QCOMPARE(reencoded.toHex(), bytes.left(int(skipper.position())).toHex());
                }
            }
        }
    }

    // plainPayloadOffset() >= 0 promises that fromDatagram() accepts the datagram as that type at
    // its version and yields exactly the bytes from the offset on.
    void plainPayloadOffsetAgreesWithDecoder() {
        int plain = 0;
        QList<QByteArray> datagrams;
        for (const QByteArray &seed : seeds()) {
            datagrams << variants(seed.left(8) + seed.mid(8, 24)); // the header bytes matter here
            datagrams << seed;
        }
        for (const QByteArray &datagram : datagrams) {
            for (const PacketType type : { PacketType::ICEServerHeartbeat, PacketType::ICEServerQuery,
                                           PacketType::ICEServerHeartbeatACK, PacketType::ICEPing }) {
                const int offset = NLDatagram::plainPayloadOffset(datagram, type);
                if (offset < 0) {
                    continue;
                }
                ++plain;
                const Decoded<NLDatagram> decoded = NLDatagram::fromDatagram(datagram);
                QVERIFY(decoded.ok());
                QCOMPARE(decoded.value.type, type);
                QVERIFY(decoded.value.versionMatches());
                QCOMPARE(decoded.value.payload.toHex(), datagram.mid(offset).toHex());
            }
        }
        QVERIFY(plain > 10);
        // What it refuses: obfuscated, message words, control bit, wrong version, oversized.
        QCOMPARE(NLDatagram::plainPayloadOffset(hex("01000008 2612"), PacketType::ICEServerHeartbeat), -1);
        QCOMPARE(NLDatagram::plainPayloadOffset(hex("01000020 00000000 00000000 2612"), PacketType::ICEServerHeartbeat),
                 -1);
        QCOMPARE(NLDatagram::plainPayloadOffset(hex("01000080 2612"), PacketType::ICEServerHeartbeat), -1);
        QCOMPARE(NLDatagram::plainPayloadOffset(hex("01000000 2611"), PacketType::ICEServerHeartbeat), -1);
        QCOMPARE(NLDatagram::plainPayloadOffset(QByteArray(MAX_PACKET_SIZE + 1, '\0').replace(4, 2, hex("2612")),
                                                PacketType::ICEServerHeartbeat),
                 -1);
        QCOMPARE(NLDatagram::plainPayloadOffset(hex("01000000 2612"), PacketType::ICEServerHeartbeat), 6);
        QCOMPARE(NLDatagram::plainPayloadOffset(hex("01000040 2612"), PacketType::ICEServerHeartbeat),
                 6); // reliable bit
    }

    void peekDomainID() {
        const QByteArray id = hex("6ba7b8109dad11d180b400c04fd430c8");
        QCOMPARE(IceServerHeartbeat::peekDomainID(id + "rest"),
                 QUuid(QStringLiteral("{6ba7b810-9dad-11d1-80b4-00c04fd430c8}")));
        QVERIFY(IceServerHeartbeat::peekDomainID(id.left(15)).isNull());
    }
};

QTEST_GUILESS_MAIN(tst_HotPath)
#include "tst_hotpath.moc"

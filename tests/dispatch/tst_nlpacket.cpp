// NLPacket (upstream's QIODevice packet) and ReceivedMessage's readers: what is written the
// upstream way encodes to the same bytes as our value codecs, and reads back the same way.
#include <IcePackets.h>
#include <NLPacket.h>
#include <ReceivedMessage.h>

#include <QtCore/QDataStream>
#include <QtTest/QTest>

class tst_NLPacket : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void createdPacketHasTheTablesHeader() {
        auto packet = NLPacket::create(PacketType::ICEPing);
        QCOMPARE(packet->getType(), PacketType::ICEPing);
        QCOMPARE(packet->getVersion(), versionForPacketType(PacketType::ICEPing));
        QCOMPARE(packet->getPayloadSize(), qint64(0));
        QCOMPARE(packet->getPayloadCapacity(), qint64(NLPacket::maxPayloadSize(PacketType::ICEPing)));
        QCOMPARE(packet->getDataSize(), qint64(NLPacket::totalHeaderSize(PacketType::ICEPing)));
        QCOMPARE(NLPacket::totalHeaderSize(PacketType::ICEPing), 6);
        QCOMPARE(NLPacket::create(PacketType::ICEPing, 10, false, false, 42)->getVersion(), PacketVersion(42));
        QVERIFY(NLPacket::create(PacketType::ICEPing, -1, true)->isReliable());
    }

    // The ICE ping written as upstream writes it (rfc4122 bytes, then writePrimitive of the type),
    // and the query through a QDataStream: both equal our value encodings byte for byte.
    void upstreamWritesEncodeLikeOurCodecs() {
        const QUuid id = QUuid::createUuid();
        auto ping = NLPacket::create(PacketType::ICEPing, IcePing::PayloadSize);
        ping->write(id.toRfc4122());
        ping->writePrimitive(PingType_t(PingType::Symmetric));
        QCOMPARE(ping->getPayloadSize(), qint64(IcePing::PayloadSize));
        QCOMPARE(ping->toDatagram(),
                 NLDatagram::create(PacketType::ICEPing, IcePing { id, PingType::Symmetric }.toPayload()).toDatagram());

        IceServerQuery query;
        query.clientID = QUuid::createUuid();
        query.publicSocket = SockAddr(QHostAddress(QStringLiteral("203.0.113.5")), 40102);
        query.localSocket = SockAddr(QHostAddress(QStringLiteral("192.168.1.20")), 40102);
        query.domainID = QUuid::createUuid();
        auto packet = NLPacket::create(PacketType::ICEServerQuery);
        QDataStream stream(packet.get());
        stream << query.clientID << query.publicSocket << query.localSocket << query.domainID;
        QCOMPARE(stream.status(), QDataStream::Ok);
        QCOMPARE(packet->toNLDatagram().payload, query.toPayload());
    }

    void writePastCapacityFails() {
        auto packet = NLPacket::create(PacketType::ICEPing, 4);
        QCOMPARE(packet->write("abcd", 4), qint64(4));
        QCOMPARE(packet->write("e", 1), qint64(-1));
        QCOMPARE(packet->getPayloadSize(), qint64(4));
        QVERIFY(packet->reset());
        QCOMPARE(packet->read(10), QByteArray("abcd"));
    }

    void receivedPacketReadsBack() {
        const QUuid id = QUuid::createUuid();
        const QByteArray datagram = NLDatagram::create(PacketType::ICEPingReply,
                                                       IcePing { id, PingType::Local }.toPayload())
                                        .toDatagram();
        std::unique_ptr<char[]> data(new char[size_t(datagram.size())]);
        memcpy(data.get(), datagram.constData(), size_t(datagram.size()));
        const SockAddr from(QHostAddress(QStringLiteral("198.51.100.7")), 5000);
        auto packet = NLPacket::fromReceivedPacket(std::move(data), datagram.size(), from);
        QVERIFY(packet);
        QCOMPARE(packet->getType(), PacketType::ICEPingReply);
        QCOMPARE(packet->getSenderSockAddr(), from);
        QCOMPARE(QUuid::fromRfc4122(packet->readWithoutCopy(16)), id);
        PingType_t type = 0;
        QCOMPARE(packet->readPrimitive(&type), qint64(1));
        QCOMPARE(type, PingType_t(PingType::Local));
        QCOMPARE(packet->bytesLeftToRead(), qint64(0));

        std::unique_ptr<char[]> junk(new char[3]());
        QVERIFY(!NLPacket::fromReceivedPacket(std::move(junk), 3, from));
    }

    void receivedMessageReaders() {
        const QUuid id = QUuid::createUuid();
        auto packet = NLPacket::create(PacketType::ICEPing);
        packet->write(id.toRfc4122());
        packet->writePrimitive(PingType_t(PingType::Public));
        packet->writeString(QStringLiteral("héllo"));
        ReceivedMessage message(*packet);
        QCOMPARE(message.getType(), PacketType::ICEPing);
        QCOMPARE(QByteArray(message.getRawMessage(), 16), id.toRfc4122());
        QCOMPARE(QUuid::fromRfc4122(message.readWithoutCopy(16)), id);
        PingType_t type = 0;
        QCOMPARE(message.peekPrimitive(&type), qint64(1));
        QCOMPARE(message.readPrimitive(&type), qint64(1));
        QCOMPARE(type, PingType_t(PingType::Public));
        QCOMPARE(message.readString(), QStringLiteral("héllo"));
        QCOMPARE(message.getBytesLeftToRead(), qint64(0));
        QCOMPARE(message.read(4), QByteArray());
        message.seek(0);
        QCOMPARE(message.getPosition(), qint64(0));
        QCOMPARE(message.readAll(), message.getMessage());
        message.seek(1000);
        QCOMPARE(message.getPosition(), message.getSize());
    }
};

QTEST_GUILESS_MAIN(tst_NLPacket)
#include "tst_nlpacket.moc"

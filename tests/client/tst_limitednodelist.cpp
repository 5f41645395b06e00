// LimitedNodeList: STUN discovery (request, answer, what is ignored, failure), the local socket,
// the ICE packets it builds, and moving to a fresh port.
#include "ClientTestUtil.h"

#include <LimitedNodeList.h>
#include <QUdpSocketTransport.h>

#include <QtCore/QRegularExpression>
#include <QtNetwork/QNetworkDatagram>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace client_test;

namespace {
const SockAddr stunServer(QHostAddress(QStringLiteral("192.0.2.50")), 3478);

QByteArray lastTransactionId(const FakeTransport &transport) {
    const auto stun = sentStun(transport);
    return stun.isEmpty() ? QByteArray() : StunMessage::decode(stun.last().datagram).value.transactionId;
}

QByteArray answer(const QByteArray &transactionId, const SockAddr &mapped) {
    return StunMessage::bindingSuccess(transactionId, mapped).encode();
}
} // namespace

class tst_LimitedNodeList : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void stunRequestAndResponse();
    void stunRetransmissionsShareTransactionId();
    void stunWrongTransactionIdIgnored();
    void stunWrongSourceIgnored();
    void stunFailsAfterMoreThanTenUnanswered();
    void stunAnswerAfterFailureRecovers();
    void stunServerByNameOnLoopback();
    void localSocketFromBoundAddress();
    void localSocketProbedTowardsTarget();
    void peerQueryIsByteExact();
    void icePingAndReplyPackets();
    void upstreamPacketForms();
    void sessionUUIDAndConnectionSteps();
    void rebindMovesToFreshPort();
    void rebindOverTheTransportInterface();
    void rebindFailureIsReported();
};

void tst_LimitedNodeList::stunRequestAndResponse() {
    FakeTransport transport;
    LimitedNodeList nodeList(&transport);
    QSignalSpy publicSpy(&nodeList, &LimitedNodeList::publicSockAddrChanged);
    QSignalSpy completedSpy(&nodeList, &LimitedNodeList::initialSTUNCompleted);
    QVERIFY(nodeList.setStunServer(QStringLiteral("192.0.2.50:3478")));
    QCOMPARE(nodeList.getStunSockAddr(), stunServer);

    nodeList.startSTUNPublicSocketUpdate();
    const auto stun = sentStun(transport);
    QCOMPARE(stun.size(), 1);
    QCOMPARE(stun.first().destination, stunServer);
    QCOMPARE(stun.first().datagram.size(), 20);
    QCOMPARE(stun.first().datagram.left(8), hex("0001 0000 2112a442"));

    transport.inject(answer(lastTransactionId(transport), clientPublic()), stunServer);
    QCOMPARE(publicSpy.count(), 1);
    QCOMPARE(publicSpy.first().first().value<SockAddr>(), clientPublic());
    QCOMPARE(nodeList.getPublicSockAddr(), clientPublic());
    QVERIFY(nodeList.hasCompletedInitialSTUN());
    QVERIFY(!nodeList.didInitialSTUNFail());
    QCOMPARE(completedSpy.count(), 1);
    QCOMPARE(completedSpy.first().first().toBool(), true);

    // The same answer again changes nothing and emits nothing.
    transport.inject(answer(lastTransactionId(transport), clientPublic()), stunServer);
    QCOMPARE(publicSpy.count(), 1);
}

void tst_LimitedNodeList::stunRetransmissionsShareTransactionId() {
    FakeTransport transport;
    LimitedNodeList nodeList(&transport);
    nodeList.setStunServer(stunServer.getAddress().toString(), stunServer.getPort());
    nodeList.startSTUNPublicSocketUpdate();
    QTRY_VERIFY_WITH_TIMEOUT(sentStun(transport).size() >= 3, 5000);
    const auto stun = sentStun(transport);
    const QByteArray first = StunMessage::decode(stun.at(0).datagram).value.transactionId;
    QCOMPARE(first.size(), 12);
    QCOMPARE(StunMessage::decode(stun.at(2).datagram).value.transactionId, first);

    // An answer to the first transmission arriving late still counts.
    QSignalSpy publicSpy(&nodeList, &LimitedNodeList::publicSockAddrChanged);
    transport.inject(answer(first, clientPublic()), stunServer);
    QCOMPARE(publicSpy.count(), 1);
}

void tst_LimitedNodeList::stunWrongTransactionIdIgnored() {
    FakeTransport transport;
    LimitedNodeList nodeList(&transport);
    nodeList.setStunServer(QStringLiteral("192.0.2.50:3478"));
    nodeList.startSTUNPublicSocketUpdate();
    QSignalSpy publicSpy(&nodeList, &LimitedNodeList::publicSockAddrChanged);

    QByteArray wrong = lastTransactionId(transport);
    wrong[0] = char(wrong.at(0) ^ 0x01);
    transport.inject(answer(wrong, clientPublic()), stunServer);
    QCOMPARE(publicSpy.count(), 0);
    QVERIFY(nodeList.getPublicSockAddr().isNull());
    QVERIFY(!nodeList.hasCompletedInitialSTUN());

    // A binding *request* carrying our ID is not an answer either.
    StunMessage request = StunMessage::bindingRequest();
    request.transactionId = lastTransactionId(transport);
    transport.inject(request.encode(), stunServer);
    QCOMPARE(publicSpy.count(), 0);
}

void tst_LimitedNodeList::stunWrongSourceIgnored() {
    FakeTransport transport;
    LimitedNodeList nodeList(&transport);
    nodeList.setStunServer(QStringLiteral("192.0.2.50:3478"));
    nodeList.startSTUNPublicSocketUpdate();
    QSignalSpy publicSpy(&nodeList, &LimitedNodeList::publicSockAddrChanged);
    const QByteArray good = answer(lastTransactionId(transport), clientPublic());

    transport.inject(good, SockAddr(QHostAddress(QStringLiteral("192.0.2.99")), 3478));
    transport.inject(good, SockAddr(stunServer.getAddress(), 3479));
    QCOMPARE(publicSpy.count(), 0);
    QVERIFY(nodeList.getPublicSockAddr().isNull());

    transport.inject(good, stunServer);
    QCOMPARE(publicSpy.count(), 1);
}

void tst_LimitedNodeList::stunFailsAfterMoreThanTenUnanswered() {
    FakeTransport transport(SockAddr(QHostAddress(QStringLiteral("10.1.2.3")), 40555));
    LimitedNodeList nodeList(&transport);
    QSignalSpy failedSpy(&nodeList, &LimitedNodeList::stunFailed);
    QSignalSpy publicSpy(&nodeList, &LimitedNodeList::publicSockAddrChanged);
    QSignalSpy completedSpy(&nodeList, &LimitedNodeList::initialSTUNCompleted);
    nodeList.setStunServer(QStringLiteral("192.0.2.50:3478"));
    nodeList.startSTUNPublicSocketUpdate();

    QTRY_COMPARE_WITH_TIMEOUT(failedSpy.count(), 1, 10000);
    // 11 requests (upstream fails when the count exceeds 10), then nothing until the 10 s refresh.
    QCOMPARE(sentStun(transport).size(), LimitedNodeList::MAX_INITIAL_STUN_REQUESTS + 1);
    QVERIFY(nodeList.didInitialSTUNFail());
    QVERIFY(nodeList.hasCompletedInitialSTUN());
    QCOMPARE(completedSpy.count(), 1);
    QCOMPARE(completedSpy.first().first().toBool(), false);
    // Upstream's failure value: a null address with our local port (wire form FF pp pp).
    const SockAddr expected(QHostAddress(), 40555);
    QCOMPARE(nodeList.getPublicSockAddr(), expected);
    QCOMPARE(publicSpy.count(), 1);
    QCOMPARE(publicSpy.first().first().value<SockAddr>(), expected);
}

void tst_LimitedNodeList::stunAnswerAfterFailureRecovers() {
    FakeTransport transport;
    LimitedNodeList nodeList(&transport);
    QSignalSpy failedSpy(&nodeList, &LimitedNodeList::stunFailed);
    nodeList.setStunServer(QStringLiteral("192.0.2.50:3478"));
    nodeList.startSTUNPublicSocketUpdate();
    QTRY_COMPARE_WITH_TIMEOUT(failedSpy.count(), 1, 10000);

    QSignalSpy completedSpy(&nodeList, &LimitedNodeList::initialSTUNCompleted);
    transport.inject(answer(lastTransactionId(transport), clientPublic()), stunServer);
    QCOMPARE(nodeList.getPublicSockAddr(), clientPublic());
    QVERIFY(!nodeList.didInitialSTUNFail());
    QCOMPARE(completedSpy.count(), 1);
}

void tst_LimitedNodeList::stunServerByNameOnLoopback() {
    // A real socket and a loopback STUN responder reached through a name: the async lookup path.
    QUdpSocket responder;
    QVERIFY(responder.bind(QHostAddress(QHostAddress::LocalHost), 0));
    connect(&responder, &QUdpSocket::readyRead, &responder, [&responder] {
        while (responder.hasPendingDatagrams()) {
            const QNetworkDatagram in = responder.receiveDatagram();
            const Decoded<StunMessage> request = StunMessage::decode(in.data());
            if (request.ok() && request.value.type == StunMessage::BindingRequest) {
                const SockAddr observed(in.senderAddress(), quint16(in.senderPort()));
                responder.writeDatagram(StunMessage::bindingSuccess(request.value.transactionId, observed).encode(),
                                        in.senderAddress(), quint16(in.senderPort()));
            }
        }
    });

    LimitedNodeList nodeList;
    QVERIFY2(nodeList.isBound(), qPrintable(nodeList.errorString()));
    QSignalSpy publicSpy(&nodeList, &LimitedNodeList::publicSockAddrChanged);
    QVERIFY(nodeList.setStunServer(QStringLiteral("localhost:%1").arg(responder.localPort())));
    nodeList.startSTUNPublicSocketUpdate();
    QTRY_COMPARE_WITH_TIMEOUT(publicSpy.count(), 1, 5000);
    QCOMPARE(nodeList.getPublicSockAddr(), SockAddr(QHostAddress::LocalHost, nodeList.getLocalPort()));
    // With the STUN server on loopback, the local socket is the loopback one too.
    QCOMPARE(nodeList.getLocalSockAddr(), SockAddr(QHostAddress::LocalHost, nodeList.getLocalPort()));
}

void tst_LimitedNodeList::localSocketFromBoundAddress() {
    FakeTransport transport(SockAddr(QHostAddress(QStringLiteral("10.1.2.3")), 5000));
    LimitedNodeList nodeList(&transport);
    QCOMPARE(nodeList.getLocalSockAddr(), SockAddr(QHostAddress(QStringLiteral("10.1.2.3")), 5000));
    QCOMPARE(nodeList.getLocalPort(), quint16(5000));
}

void tst_LimitedNodeList::localSocketProbedTowardsTarget() {
    // Bound to "any": the address comes from a connect()ed probe socket (which sends nothing).
    FakeTransport transport(SockAddr(QHostAddress::AnyIPv4, 40102));
    LimitedNodeList nodeList(&transport);
    QVERIFY(!nodeList.getLocalSockAddr().isNull());
    QCOMPARE(nodeList.getLocalSockAddr().getPort(), quint16(40102));
    QVERIFY(nodeList.getLocalSockAddr().getAddress() != QHostAddress(QHostAddress::AnyIPv4));

    QSignalSpy localSpy(&nodeList, &LimitedNodeList::localSockAddrChanged);
    nodeList.setLocalSocketProbeTarget(QHostAddress::LocalHost);
    QCOMPARE(nodeList.getLocalSockAddr(), SockAddr(QHostAddress::LocalHost, 40102));
    if (localSpy.count() == 1) {
        QCOMPARE(localSpy.first().first().value<SockAddr>(), SockAddr(QHostAddress::LocalHost, 40102));
    } else {
        QCOMPARE(localSpy.count(), 0); // the fallback already was loopback (a host without interfaces)
    }
    QVERIFY(transport.sent().isEmpty());
}

void tst_LimitedNodeList::peerQueryIsByteExact() {
    FakeTransport transport(clientLocal());
    LimitedNodeList nodeList(&transport);
    nodeList.setStunServer(QStringLiteral("192.0.2.50:3478"));
    nodeList.startSTUNPublicSocketUpdate();
    transport.inject(answer(lastTransactionId(transport), clientPublic()), stunServer);
    transport.clearSent();

    QVERIFY(nodeList.sendPeerQueryToIceServer(iceServer(), clientID(), domainID()));
    QCOMPARE(transport.sent().size(), 1);
    QCOMPARE(transport.sent().first().destination, iceServer());
    QCOMPARE(transport.sent().first().ttl, 0);
    // docs/protocol.md 2.5, ICEServerQuery (first packet to that destination: seq 1).
    const QByteArray expected = hex("01000000 1711 112233445566778899aabbccddeeff00 00cb0071059ca6 00c0a8010a9ca6"
                                    " 6ba7b8109dad11d180b400c04fd430c8");
    QCOMPARE(transport.sent().first().datagram.toHex(' '), expected.toHex(' '));
}

void tst_LimitedNodeList::icePingAndReplyPackets() {
    // docs/protocol.md 2.5: ICEPing (Public, client ID) and the domain's reply.
    const NLDatagram ping = LimitedNodeList::makeICEPingDatagram(PingType::Public, clientID());
    QCOMPARE(ping.toDatagram().mid(4).toHex(' '), hex("2712 112233445566778899aabbccddeeff00 02").toHex(' '));

    const ReceivedMessage received(NLDatagram::fromDatagram(ping.toDatagram()).value, clientPublic());
    const NLDatagram reply = LimitedNodeList::makeICEPingReplyDatagram(received, domainID());
    QCOMPARE(reply.toDatagram().mid(4).toHex(' '), hex("2811 6ba7b8109dad11d180b400c04fd430c8 02").toHex(' '));

    IcePing local;
    local.senderID = clientID();
    local.pingType = PingType::Local;
    QCOMPARE(LimitedNodeList::makeICEPingReplyDatagram(local, domainID()).payload.right(1), hex("01"));
}

void tst_LimitedNodeList::upstreamPacketForms() {
    // constructICEPing(Reply)Packet give the same bytes as the value forms; sendPacket sends them.
    FakeTransport transport(clientLocal());
    LimitedNodeList nodeList(&transport);
    std::unique_ptr<NLPacket> ping = LimitedNodeList::constructICEPingPacket(PingType::Public, clientID());
    QVERIFY(ping);
    QCOMPARE(ping->getType(), PacketType::ICEPing);
    const QByteArray expectedPing = LimitedNodeList::makeICEPingDatagram(PingType::Public, clientID()).toDatagram();
    QCOMPARE(nodeList.sendUnreliablePacket(*ping, domainPublic()), qint64(expectedPing.size()));
    QCOMPARE(nodeList.sendPacket(std::move(ping), domainPublic(), nullptr), qint64(expectedPing.size()));
    QCOMPARE(transport.sent().size(), 2);
    QCOMPARE(transport.sent().at(0).datagram.mid(4), expectedPing.mid(4)); // the sequence number differs
    QCOMPARE(transport.sent().at(1).destination, domainPublic());
    QCOMPARE(nodeList.sendPacket(std::unique_ptr<NLPacket>(), domainPublic()), qint64(-1));

    ReceivedMessage received(NLDatagram::fromDatagram(expectedPing).value, clientPublic());
    std::unique_ptr<NLPacket> reply = LimitedNodeList::constructICEPingReplyPacket(received, domainID());
    QVERIFY(reply);
    QCOMPARE(reply->toNLDatagram().payload, LimitedNodeList::makeICEPingReplyDatagram(received, domainID()).payload);
}

void tst_LimitedNodeList::sessionUUIDAndConnectionSteps() {
    FakeTransport transport(clientLocal());
    LimitedNodeList nodeList(&transport);
    QSignalSpy changed(&nodeList, &LimitedNodeList::uuidChanged);
    const QUuid session = QUuid::createUuid();
    nodeList.setSessionUUID(session);
    nodeList.setSessionUUID(session);
    QCOMPARE(nodeList.getSessionUUID(), session);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.first().at(1).toUuid(), QUuid());

    QVERIFY(!nodeList.hasFlaggedConnectionStep(LimitedNodeList::SendICEServerQuery));
    QVERIFY(nodeList.sendPeerQueryToIceServer(iceServer(), clientID(), domainID()));
    QVERIFY(nodeList.hasFlaggedConnectionStep(LimitedNodeList::SendICEServerQuery));
    nodeList.flagTimeForConnectionStep(LimitedNodeList::SendDSCheckIn);
    QVERIFY(nodeList.getLastConnectionTimes().contains(LimitedNodeList::SendDSCheckIn));
}

void tst_LimitedNodeList::rebindMovesToFreshPort() {
    LimitedNodeList nodeList;
    QVERIFY2(nodeList.isBound(), qPrintable(nodeList.errorString()));
    const quint16 oldPort = nodeList.getLocalPort();
    QVERIFY(oldPort != 0);
    QSignalSpy reboundSpy(&nodeList, &LimitedNodeList::transportRebound);
    QSignalSpy localSpy(&nodeList, &LimitedNodeList::localSockAddrChanged);
    QVERIFY(nodeList.rebindToFreshPort());
    QCOMPARE(reboundSpy.count(), 1);
    const quint16 newPort = nodeList.getLocalPort();
    QVERIFY(newPort != 0);
    QCOMPARE(reboundSpy.first().first().value<quint16>(), newPort);
    if (newPort != oldPort) {
        QCOMPARE(localSpy.count(), 1);
        QCOMPARE(nodeList.getLocalSockAddr().getPort(), newPort);
    }

    // The new socket receives: a datagram sent to it reaches the packet receiver.
    QSignalSpy stunSpy(&nodeList.getPacketReceiver(), &PacketReceiver::stunDatagramReceived);
    QUdpSocket sender;
    sender.writeDatagram(StunMessage::bindingRequest().encode(), QHostAddress::LocalHost, newPort);
    QTRY_COMPARE_WITH_TIMEOUT(stunSpy.count(), 1, 5000);
}

void tst_LimitedNodeList::rebindOverTheTransportInterface() {
    // Any transport can move (no cast to the socket class): the public socket is forgotten and a
    // running STUN discovery starts over from the new port.
    FakeTransport transport(clientLocal());
    transport.setNextPort(50999);
    LimitedNodeList nodeList(&transport);
    nodeList.setStunServer(QStringLiteral("192.0.2.50:3478"));
    nodeList.startSTUNPublicSocketUpdate();
    transport.inject(answer(lastTransactionId(transport), clientPublic()), stunServer);
    QCOMPARE(nodeList.getPublicSockAddr(), clientPublic());
    transport.clearSent();

    QSignalSpy reboundSpy(&nodeList, &LimitedNodeList::transportRebound);
    QSignalSpy localSpy(&nodeList, &LimitedNodeList::localSockAddrChanged);
    QVERIFY(nodeList.rebindToFreshPort());
    QCOMPARE(transport.rebindCount(), 1);
    QCOMPARE(reboundSpy.count(), 1);
    QCOMPARE(reboundSpy.first().first().value<quint16>(), quint16(50999));
    QCOMPARE(localSpy.count(), 1);
    QCOMPARE(nodeList.getLocalSockAddr(), SockAddr(clientLocal().getAddress(), 50999));
    QVERIFY(nodeList.getPublicSockAddr().isNull());
    QVERIFY(!nodeList.hasCompletedInitialSTUN());
    QCOMPARE(sentStun(transport).size(), 1);
}

void tst_LimitedNodeList::rebindFailureIsReported() {
    FakeTransport transport;
    transport.setRebindError(QStringLiteral("no ports left"));
    LimitedNodeList nodeList(&transport);
    QVERIFY(nodeList.isBound());
    QSignalSpy reboundSpy(&nodeList, &LimitedNodeList::transportRebound);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("rebind failed.*no ports left")));
    QVERIFY(!nodeList.rebindToFreshPort());
    QCOMPARE(reboundSpy.count(), 0);
    QCOMPARE(nodeList.errorString(), QStringLiteral("no ports left"));
    QVERIFY(!nodeList.isBound());
}

QTEST_GUILESS_MAIN(tst_LimitedNodeList)
#include "tst_limitednodelist.moc"

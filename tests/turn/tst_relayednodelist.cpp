// LimitedNodeList with a TURN relay on its own socket: what the relay carries reaches PacketReceiver
// exactly like a direct datagram, with the peer's address as sender; answers to such a peer go back
// through the relay; TURN framing from anyone but the TURN server is never taken for relayed data.
// The relay path runs against a real coturn on loopback, the demultiplexing on a FakeTransport.
#include "CoturnProcess.h"

#include <FakeTransport.h>
#include <LimitedNodeList.h>
#include <TurnClient.h>

#include <QtTest/QtTest>

#if QT_VERSION < QT_VERSION_CHECK(6, 0, 0)
Q_DECLARE_METATYPE(QHostAddress)
#endif

namespace {

const TurnCredentials kGood { QStringLiteral("u"), QStringLiteral("p") };
const QStringList kLongTermArgs { QStringLiteral("--lt-cred-mech"), QStringLiteral("--user"), QStringLiteral("u:p"),
                                  QStringLiteral("--realm"), QStringLiteral("icebreaker.test") };

// Records every ICEPing and ICEPingReply a node list's receiver dispatches, with its sender.
class Recorder : public QObject {
    Q_OBJECT
public:
    explicit Recorder(LimitedNodeList *nodeList) {
        nodeList->getPacketReceiver().registerListener(PacketType::ICEPing, this, &Recorder::onPacket);
        nodeList->getPacketReceiver().registerListener(PacketType::ICEPingReply, this, &Recorder::onPacket);
    }
    QList<QPair<PacketType, SockAddr>> received;

private:
    void onPacket(ReceivedMessagePointer message) {
        received.append({ message->getType(), message->getSenderSockAddr() });
    }
};

} // namespace

class tst_RelayedNodeList : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void relayedDatagramsLookDirect();
    void turnFramingFromOthersIsNotRelayed_data();
    void turnFramingFromOthersIsNotRelayed();
    void relayedPeersAreBounded();
};

void tst_RelayedNodeList::initTestCase() {
    qRegisterMetaType<SockAddr>();
    qRegisterMetaType<QHostAddress>();
    QVERIFY2(!CoturnProcess::executable().isEmpty(), "turnserver (coturn) is not installed; see scripts/deps.sh");
}

void tst_RelayedNodeList::relayedDatagramsLookDirect() {
    CoturnProcess coturn;
    QVERIFY2(coturn.start(kLongTermArgs), coturn.output().constData());

    LimitedNodeList relayed(quint16(0));
    LimitedNodeList peer(quint16(0));
    QVERIFY(relayed.isBound() && peer.isBound());
    Recorder relayedSeen(&relayed);
    Recorder peerSeen(&peer);
    const SockAddr peerAddress(QHostAddress::LocalHost, peer.getLocalPort());

    TurnClient *turn = relayed.setTurnServer(coturn.address(), kGood);
    QVERIFY(turn);
    QCOMPARE(relayed.getTurnClient(), turn);
    QSignalSpy allocated(turn, &TurnClient::allocated);
    QSignalSpy permitted(turn, &TurnClient::permissionCreated);
    QSignalSpy heard(&relayed, &LimitedNodeList::relayedPeerHeard);
    turn->allocate();
    QVERIFY(allocated.wait(5000));
    turn->addPermission(peerAddress.getAddress());
    QTRY_VERIFY_WITH_TIMEOUT(!permitted.isEmpty(), 5000);

    // The peer pings our relayed address: our receiver sees it from the peer, as if direct.
    const QUuid peerID = QUuid::createUuid();
    QVERIFY(peer.sendPacket(LimitedNodeList::makeICEPingDatagram(PingType::Public, peerID), turn->relayedAddress()));
    QTRY_COMPARE_WITH_TIMEOUT(relayedSeen.received.size(), 1, 5000);
    QCOMPARE(relayedSeen.received.first().first, PacketType::ICEPing);
    QCOMPARE(relayedSeen.received.first().second, peerAddress);
    QCOMPARE(heard.size(), 1);
    QCOMPARE(heard.first().first().value<SockAddr>(), peerAddress);
    QVERIFY(relayed.isRelayedPeer(peerAddress));

    // Our answer to that address goes the way the ping came: the peer sees our relayed address.
    IcePing ping;
    ping.senderID = peerID;
    ping.pingType = PingType::Public;
    QVERIFY(relayed.sendPacket(LimitedNodeList::makeICEPingReplyDatagram(ping, QUuid::createUuid()), peerAddress));
    QTRY_COMPARE_WITH_TIMEOUT(peerSeen.received.size(), 1, 5000);
    QCOMPARE(peerSeen.received.first().first, PacketType::ICEPingReply);
    QCOMPARE(peerSeen.received.first().second, turn->relayedAddress());

    // Unmarked, the same peer is reached directly again (from our own socket).
    relayed.setRelayedPeer(peerAddress, false);
    QVERIFY(!relayed.isRelayedPeer(peerAddress));
    QVERIFY(
        relayed.sendPacket(LimitedNodeList::makeICEPingDatagram(PingType::Local, QUuid::createUuid()), peerAddress));
    QTRY_COMPARE_WITH_TIMEOUT(peerSeen.received.size(), 2, 5000);
    QCOMPARE(peerSeen.received.last().second, SockAddr(QHostAddress::LocalHost, relayed.getLocalPort()));

    // A STUN binding answer from the TURN server to the node's own STUN request still reaches STUN.
    QSignalSpy stunDone(&relayed, &LimitedNodeList::initialSTUNCompleted);
    relayed.setStunServer(coturn.address().getAddress().toString(), coturn.address().getPort());
    relayed.startSTUNPublicSocketUpdate();
    QVERIFY(stunDone.wait(5000));
    QCOMPARE(stunDone.first().first().toBool(), true);
    QCOMPARE(relayed.getPublicSockAddr().getPort(), relayed.getLocalPort());

    relayed.releaseTurn(2000);
    QCOMPARE(turn->state(), TurnClient::Idle);
}

void tst_RelayedNodeList::turnFramingFromOthersIsNotRelayed_data() {
    QTest::addColumn<QByteArray>("datagram");
    ChannelData frame;
    frame.channel = ChannelData::FirstChannel;
    frame.payload = LimitedNodeList::makeICEPingDatagram(PingType::Public, QUuid::createUuid()).toDatagram();
    TurnMessage indication = TurnMessage::create(TurnMessage::Data, TurnMessage::Indication);
    indication.peerAddresses = { SockAddr(QHostAddress(QStringLiteral("203.0.113.7")), 5000) };
    indication.data = frame.payload;
    QTest::newRow("ChannelData") << frame.encode();
    QTest::newRow("Data indication") << indication.encode();
}

// From a peer (not the TURN server), TURN framing is whatever the node makes of it: never relayed
// data, never a relayed peer. Here the NL decoder drops it.
void tst_RelayedNodeList::turnFramingFromOthersIsNotRelayed() {
    QFETCH(QByteArray, datagram);
    FakeTransport transport;
    LimitedNodeList nodeList(&transport);
    Recorder seen(&nodeList);
    const SockAddr server(QHostAddress(QStringLiteral("198.51.100.1")), 3478);
    QVERIFY(nodeList.setTurnServer(server, kGood));
    QSignalSpy heard(&nodeList, &LimitedNodeList::relayedPeerHeard);
    const quint64 before = nodeList.getPacketReceiver().counters().datagrams;

    const SockAddr stranger(QHostAddress(QStringLiteral("203.0.113.7")), 5000);
    transport.inject(datagram, stranger);
    QCOMPARE(heard.size(), 0);
    QVERIFY(seen.received.isEmpty());
    QVERIFY(!nodeList.isRelayedPeer(stranger));
    QCOMPARE(nodeList.getPacketReceiver().counters().datagrams, before + 1); // went to the node, as direct

    // From the server but with nothing allocated, the TURN client takes it and relays nothing.
    transport.inject(datagram, server);
    QCOMPARE(heard.size(), 0);
    QVERIFY(seen.received.isEmpty());
    QCOMPARE(nodeList.getPacketReceiver().counters().datagrams, before + 1);
}

void tst_RelayedNodeList::relayedPeersAreBounded() {
    FakeTransport transport;
    LimitedNodeList nodeList(&transport);
    for (int i = 0; i < LimitedNodeList::MaxRelayedPeers + 1; ++i) {
        nodeList.setRelayedPeer(SockAddr(QHostAddress(quint32(0x0A000000 + i)), 9));
    }
    const SockAddr last(QHostAddress(quint32(0x0A000000 + LimitedNodeList::MaxRelayedPeers)), 9);
    QVERIFY(nodeList.isRelayedPeer(last));
    QVERIFY(!nodeList.isRelayedPeer(SockAddr(QHostAddress(quint32(0x0A000000)), 9)));
}

QTEST_GUILESS_MAIN(tst_RelayedNodeList)
#include "tst_relayednodelist.moc"

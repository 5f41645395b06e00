// DomainHandler: which peer information and ping replies it accepts, how it picks the domain's socket
// (local, public, symmetric), and its error reporting.
#include "ClientTestUtil.h"

#include <DomainHandler.h>

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace client_test;

namespace {
ReceivedMessagePointer message(PacketType type, const QByteArray &payload, const SockAddr &sender) {
    return ReceivedMessagePointer::create(NLDatagram::create(type, payload), sender);
}

ReceivedMessagePointer peerInformation(const QUuid &id, const SockAddr &sender = iceServer()) {
    return message(PacketType::ICEServerPeerInformation, NetworkPeer(id, domainPublic(), domainLocal()).toByteArray(),
                   sender);
}

ReceivedMessagePointer pingReply(const QUuid &id, const SockAddr &sender, PingType type = PingType::Public) {
    IcePingReply reply;
    reply.senderID = id;
    reply.pingType = type;
    return message(PacketType::ICEPingReply, reply.toPayload(), sender);
}
} // namespace

class tst_DomainHandler : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void softResetKeepsDomainAndForgetsSocket();
    void setIceServerResolvesLiteralAndHonoursPort();
    void setIceServerDefaultPortIs7337();
    void setIceServerSameArgumentsIsNoOp();
    void peerInformationAccepted();
    void peerInformationForAnotherDomainIgnored();
    void peerInformationFromAnotherSourceIgnored();
    void peerInformationMalformedIgnored();
    void replyActivatesSocket_data();
    void replyActivatesSocket();
    void replyWithWrongIdIgnored();
    void symmetricSocketLearnedFromDomainPing();
    void keepaliveRepliesAfterDiscovery();
    void errorStateAndDiagnosis();
    void iceServerLookupFailure();
    void reconnectStartsOverWithNewClientID();
};

void tst_DomainHandler::setIceServerResolvesLiteralAndHonoursPort() {
    DomainHandler handler;
    QSignalSpy readySpy(&handler, &DomainHandler::iceSocketAndIDReceived);
    handler.setIceServerHostPortAndID(QStringLiteral("192.0.2.1"), 7447, domainID());
    QCOMPARE(readySpy.count(), 1);
    QCOMPARE(handler.getIceServerSockAddr(), SockAddr(QHostAddress(QStringLiteral("192.0.2.1")), 7447));
    QCOMPARE(handler.getPendingDomainID(), domainID());
    QVERIFY(!handler.getICEClientID().isNull());
    QVERIFY(handler.requiresICE());
    QVERIFY(!handler.isSocketDiscovered());
}

void tst_DomainHandler::setIceServerDefaultPortIs7337() {
    DomainHandler handler;
    handler.setIceServerHostnameAndID(QStringLiteral("192.0.2.1"), domainID());
    QCOMPARE(handler.getIceServerSockAddr().getPort(), quint16(7337));
}

void tst_DomainHandler::setIceServerSameArgumentsIsNoOp() {
    DomainHandler handler;
    QSignalSpy readySpy(&handler, &DomainHandler::iceSocketAndIDReceived);
    handler.setIceServerHostPortAndID(QStringLiteral("192.0.2.1"), 7337, domainID());
    const QUuid clientID = handler.getICEClientID();
    handler.setIceServerHostPortAndID(QStringLiteral("192.0.2.1"), 7337, domainID());
    QCOMPARE(readySpy.count(), 1);
    QCOMPARE(handler.getICEClientID(), clientID);
    // Another port is another ice-server: start over with a new client ID.
    handler.setIceServerHostPortAndID(QStringLiteral("192.0.2.1"), 7338, domainID());
    QCOMPARE(readySpy.count(), 2);
    QVERIFY(handler.getICEClientID() != clientID);
}

void tst_DomainHandler::peerInformationAccepted() {
    DomainHandler handler;
    handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    QSignalSpy peerSpy(&handler, &DomainHandler::icePeerSocketsReceived);
    handler.processICEResponsePacket(peerInformation(domainID()));
    QCOMPARE(peerSpy.count(), 1);
    QVERIFY(handler.hasIcePeerInformation());
    QCOMPARE(handler.getICEPeer().getPublicSocket(), domainPublic());
    QCOMPARE(handler.getICEPeer().getLocalSocket(), domainLocal());
    // A second copy while punching changes nothing (upstream: ignored once the peer has sockets).
    handler.processICEResponsePacket(peerInformation(domainID()));
    QCOMPARE(peerSpy.count(), 1);
}

void tst_DomainHandler::peerInformationForAnotherDomainIgnored() {
    DomainHandler handler;
    handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    QSignalSpy peerSpy(&handler, &DomainHandler::icePeerSocketsReceived);
    handler.processICEResponsePacket(peerInformation(QUuid::createUuid()));
    QCOMPARE(peerSpy.count(), 0);
    QVERIFY(!handler.hasIcePeerInformation());
    QVERIFY(handler.getICEPeer().getPublicSocket().isNull());
}

void tst_DomainHandler::peerInformationFromAnotherSourceIgnored() {
    DomainHandler handler;
    handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    QSignalSpy peerSpy(&handler, &DomainHandler::icePeerSocketsReceived);
    handler.processICEResponsePacket(peerInformation(domainID(), SockAddr(iceServer().getAddress(), 7338)));
    handler.processICEResponsePacket(peerInformation(domainID(), domainPublic()));
    QCOMPARE(peerSpy.count(), 0);
}

void tst_DomainHandler::peerInformationMalformedIgnored() {
    DomainHandler handler;
    handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    QSignalSpy peerSpy(&handler, &DomainHandler::icePeerSocketsReceived);
    const QByteArray full = NetworkPeer(domainID(), domainPublic(), domainLocal()).toByteArray();
    handler.processICEResponsePacket(message(PacketType::ICEServerPeerInformation, full.left(20), iceServer()));
    handler.processICEResponsePacket(message(PacketType::ICEServerPeerInformation, QByteArray(), iceServer()));
    // Both sockets null: nothing to punch.
    handler.processICEResponsePacket(message(PacketType::ICEServerPeerInformation,
                                             NetworkPeer(domainID(), SockAddr(), SockAddr()).toByteArray(),
                                             iceServer()));
    QCOMPARE(peerSpy.count(), 0);
}

void tst_DomainHandler::replyActivatesSocket_data() {
    QTest::addColumn<SockAddr>("sender");
    QTest::addColumn<int>("kind");
    QTest::newRow("local") << domainLocal() << int(NetworkPeer::ActiveSocket::Local);
    QTest::newRow("public") << domainPublic() << int(NetworkPeer::ActiveSocket::Public);
    // A domain behind a symmetric NAT answers from a port it did not report.
    QTest::newRow("symmetric") << SockAddr(domainPublic().getAddress(), 50123)
                               << int(NetworkPeer::ActiveSocket::Symmetric);
}

void tst_DomainHandler::softResetKeepsDomainAndForgetsSocket() {
    DomainHandler handler;
    handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    handler.processICEResponsePacket(peerInformation(domainID()));
    handler.processICEPingReplyPacket(pingReply(domainID(), domainPublic()));
    QVERIFY(handler.isSocketKnown());
    QCOMPARE(handler.getIP(), domainPublic().getAddress());
    handler.setErrorState(DomainHandler::Error::PunchFailed, QString());
    const QUuid iceClientID = handler.getICEClientID();

    QSignalSpy restarted(&handler, &DomainHandler::iceSocketAndIDReceived);
    handler.softReset(QStringLiteral("test"));
    QVERIFY(!handler.isSocketKnown());
    QVERIFY(!handler.hasIcePeerInformation());
    QCOMPARE(handler.error(), DomainHandler::Error::NoError);
    QCOMPARE(handler.getPendingDomainID(), domainID());
    QCOMPARE(handler.getICEServerSockAddr(), iceServer());
    QCOMPARE(handler.getICEClientID(), iceClientID);
    QCOMPARE(restarted.count(), 0); // nothing is sent until NodeList queries again
}

void tst_DomainHandler::replyActivatesSocket() {
    QFETCH(SockAddr, sender);
    QFETCH(int, kind);
    DomainHandler handler;
    handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    handler.processICEResponsePacket(peerInformation(domainID()));
    QSignalSpy doneSpy(&handler, &DomainHandler::completedSocketDiscovery);

    handler.processICEPingReplyPacket(pingReply(domainID(), sender));
    QCOMPARE(doneSpy.count(), 1);
    QCOMPARE(handler.getSockAddr(), sender);
    QVERIFY(handler.isSocketDiscovered());
    QCOMPARE(int(handler.getICEPeer().activeSocketKind()), kind);
    QCOMPARE(*handler.getICEPeer().getActiveSocket(), sender);

    // Later replies do not rediscover.
    handler.processICEPingReplyPacket(pingReply(domainID(), domainLocal()));
    QCOMPARE(doneSpy.count(), 1);
    QCOMPARE(handler.getSockAddr(), sender);
}

void tst_DomainHandler::replyWithWrongIdIgnored() {
    DomainHandler handler;
    handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    QSignalSpy doneSpy(&handler, &DomainHandler::completedSocketDiscovery);
    // Before peer information, even the right ID is not enough.
    handler.processICEPingReplyPacket(pingReply(domainID(), domainPublic()));
    QCOMPARE(doneSpy.count(), 0);

    handler.processICEResponsePacket(peerInformation(domainID()));
    handler.processICEPingReplyPacket(pingReply(QUuid::createUuid(), domainPublic()));
    handler.processICEPingReplyPacket(message(PacketType::ICEPingReply, QByteArray(5, 'x'), domainPublic()));
    QCOMPARE(doneSpy.count(), 0);
    QVERIFY(!handler.isSocketDiscovered());
}

void tst_DomainHandler::symmetricSocketLearnedFromDomainPing() {
    DomainHandler handler;
    handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    handler.processICEResponsePacket(peerInformation(domainID()));
    const SockAddr observed(domainPublic().getAddress(), 61000);
    handler.noteDomainPingFrom(domainPublic()); // a reported socket is not symmetric
    QVERIFY(handler.getICEPeer().getSymmetricSocket().isNull());
    handler.noteDomainPingFrom(observed);
    QCOMPARE(handler.getICEPeer().getSymmetricSocket(), observed);
}

void tst_DomainHandler::keepaliveRepliesAfterDiscovery() {
    DomainHandler handler;
    handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    handler.processICEResponsePacket(peerInformation(domainID()));
    handler.processICEPingReplyPacket(pingReply(domainID(), domainPublic()));
    QSignalSpy keepSpy(&handler, &DomainHandler::domainPingReplyReceived);
    handler.processICEPingReplyPacket(pingReply(domainID(), domainPublic(), PingType::Agnostic));
    handler.processICEPingReplyPacket(pingReply(domainID(), domainLocal(), PingType::Agnostic)); // not the path
    QCOMPARE(keepSpy.count(), 1);
    QCOMPARE(keepSpy.first().at(0).value<SockAddr>(), domainPublic());
}

void tst_DomainHandler::errorStateAndDiagnosis() {
    DomainHandler handler;
    handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    QCOMPARE(handler.diagnose(), DomainHandler::Error::IceServerSilent);
    handler.noteDatagramFrom(domainPublic());
    QCOMPARE(handler.diagnose(), DomainHandler::Error::IceServerSilent);
    handler.noteDatagramFrom(iceServer());
    QVERIFY(handler.wasIceServerHeardFrom());
    QCOMPARE(handler.diagnose(), DomainHandler::Error::DomainUnknown);
    handler.processICEResponsePacket(peerInformation(domainID()));
    QCOMPARE(handler.diagnose(), DomainHandler::Error::PunchFailed);

    QSignalSpy errorSpy(&handler, &DomainHandler::errorOccurred);
    handler.setErrorState(DomainHandler::Error::PunchFailed, QStringLiteral("no reply"));
    QCOMPARE(errorSpy.count(), 1);
    QCOMPARE(errorSpy.first().at(0).value<DomainHandler::Error>(), DomainHandler::Error::PunchFailed);
    QCOMPARE(errorSpy.first().at(1).toString(), QStringLiteral("no reply"));
    QCOMPARE(handler.error(), DomainHandler::Error::PunchFailed);
    QCOMPARE(handler.errorString(), QStringLiteral("no reply"));

    // After an error the same arguments start over.
    QSignalSpy readySpy(&handler, &DomainHandler::iceSocketAndIDReceived);
    handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    QCOMPARE(readySpy.count(), 1);
    QCOMPARE(handler.error(), DomainHandler::Error::NoError);
}

void tst_DomainHandler::iceServerLookupFailure() {
    DomainHandler handler;
    QSignalSpy errorSpy(&handler, &DomainHandler::errorOccurred);
    // RFC 6761: .invalid names never resolve.
    handler.setIceServerHostPortAndID(QStringLiteral("ice.example.invalid"), 7337, domainID());
    QTRY_COMPARE_WITH_TIMEOUT(errorSpy.count(), 1, 30000);
    QCOMPARE(errorSpy.first().at(0).value<DomainHandler::Error>(), DomainHandler::Error::IceServerLookupFailed);
    QVERIFY(handler.errorString().contains(QStringLiteral("ice.example.invalid")));
}

void tst_DomainHandler::reconnectStartsOverWithNewClientID() {
    DomainHandler handler;
    handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    handler.processICEResponsePacket(peerInformation(domainID()));
    handler.processICEPingReplyPacket(pingReply(domainID(), domainPublic()));
    const QUuid oldID = handler.getICEClientID();
    QSignalSpy readySpy(&handler, &DomainHandler::iceSocketAndIDReceived);
    handler.reconnectThroughIce();
    QCOMPARE(readySpy.count(), 1);
    QVERIFY(!handler.isSocketDiscovered());
    QVERIFY(!handler.hasIcePeerInformation());
    QVERIFY(handler.getICEClientID() != oldID);
    QCOMPARE(handler.getPendingDomainID(), domainID());
}

QTEST_GUILESS_MAIN(tst_DomainHandler)
#include "tst_domainhandler.moc"

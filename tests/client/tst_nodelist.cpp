// NodeList over FakeTransport on a FakeClock: the query it sends and how often, the punch rounds and
// their TTL schedule, the fresh-port retry, giving up with the right reason, and which pings it
// answers. Time only moves when a test advances the clock, so every timing is checked exactly.
#include "ClientTestUtil.h"

#include <FakeClock.h>
#include <LimitedNodeList.h>
#include <NodeList.h>

#include <QtCore/QRegularExpression>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace client_test;

namespace {
const SockAddr stunServer(QHostAddress(QStringLiteral("192.0.2.50")), 3478);

constexpr int Round = NodeList::UDP_PUNCH_PING_INTERVAL_MS;
constexpr int RoundsPerAttempt = NodeList::NUM_DOMAIN_SERVER_PINGS_BEFORE_RESET;

// A client at clientLocal() with no STUN server: its first query goes out at once.
struct Client {
    FakeClock clock;
    FakeTransport transport { clientLocal() };
    LimitedNodeList limitedNodeList { &transport };
    NodeList nodeList { &limitedNodeList, clock };
    DomainHandler &handler = nodeList.getDomainHandler();

    void connectToDomain() {
        handler.setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(), domainID());
    }
    void injectPeerInformation() {
        transport.inject(datagram(PacketType::ICEServerPeerInformation,
                                  NetworkPeer(domainID(), domainPublic(), domainLocal()).toByteArray()),
                         iceServer());
    }
    QList<IceServerQuery> queries() const {
        QList<IceServerQuery> out;
        for (const auto &sent : sentOfType(transport, PacketType::ICEServerQuery)) {
            out.append(IceServerQuery::fromPayload(payloadOf(sent.datagram)).value);
        }
        return out;
    }
};

QByteArray uuidHex(const QUuid &id) {
    return id.toRfc4122().toHex();
}

QByteArray pingDatagram(PacketType type, const QUuid &id, PingType pingType) {
    IcePing ping;
    ping.senderID = id;
    ping.pingType = pingType;
    return datagram(type, ping.toPayload());
}
} // namespace

class tst_NodeList : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void nodeListIsALimitedNodeList();
    void queryIsByteExact();
    void queryWaitsForStunAndCarriesPublicSocket();
    void queryHonoursIceServerPort();
    void requeryCadenceAndIceServerSilent();
    void domainUnknownWhenIceServerAnswers();
    void pingRoundsFollowTtlSchedule_data();
    void pingRoundsFollowTtlSchedule();
    void domainPingEndsTheWait();
    void attemptEndsAfterTwoSecondsWithFreshQuery();
    void freshPortRetryQueriesFromTheNewPortAfterStun();
    void failedRebindRetriesOnTheOldSocket();
    void punchFailedAfterMaxAttempts();
    void noPrimingWhenScheduleDisabled();
    void answersOnlyPendingDomainPings();
    void domainPingFromUnreportedAddressBecomesSymmetric();
    void replyCompletesDiscoveryAndStopsPinging();
    void punchTtlScheduleParsing();
};

void tst_NodeList::queryIsByteExact() {
    Client client;
    client.connectToDomain();
    const auto queries = sentOfType(client.transport, PacketType::ICEServerQuery);
    QCOMPARE(queries.size(), 1);
    QCOMPARE(queries.first().destination, iceServer());
    // docs/protocol.md 3.3: client ID | public (null before STUN: ff 00 00) | local | domain.
    const QByteArray expected = hex("01000000 1711") + QByteArray::fromHex(uuidHex(client.handler.getICEClientID()))
                                + hex("ff0000 00c0a8010a9ca6 6ba7b8109dad11d180b400c04fd430c8");
    QCOMPARE(queries.first().datagram.toHex(' '), expected.toHex(' '));
    // Alongside: a STUN binding request to the ice-server, the reachability probe.
    const auto stun = sentStun(client.transport);
    QCOMPARE(stun.size(), 1);
    QCOMPARE(stun.first().destination, iceServer());
}

void tst_NodeList::queryWaitsForStunAndCarriesPublicSocket() {
    Client client;
    client.limitedNodeList.setStunServer(stunServer.getAddress().toString(), stunServer.getPort());
    client.limitedNodeList.startSTUNPublicSocketUpdate();
    client.connectToDomain();
    QCOMPARE(sentOfType(client.transport, PacketType::ICEServerQuery).size(), 0);

    const auto stun = sentStun(client.transport);
    const QByteArray txid = StunMessage::decode(stun.first().datagram).value.transactionId;
    client.transport.inject(StunMessage::bindingSuccess(txid, clientPublic()).encode(), stunServer);
    const auto queries = sentOfType(client.transport, PacketType::ICEServerQuery);
    QCOMPARE(queries.size(), 1);
    const QByteArray expected = hex("01000000 1711") + QByteArray::fromHex(uuidHex(client.handler.getICEClientID()))
                                + hex("00cb0071059ca6 00c0a8010a9ca6 6ba7b8109dad11d180b400c04fd430c8");
    QCOMPARE(queries.first().datagram.toHex(' '), expected.toHex(' '));
}

void tst_NodeList::queryHonoursIceServerPort() {
    Client client;
    client.handler.setIceServerHostPortAndID(QStringLiteral("192.0.2.1"), 7447, domainID());
    const auto queries = sentOfType(client.transport, PacketType::ICEServerQuery);
    QCOMPARE(queries.size(), 1);
    QCOMPARE(queries.first().destination, SockAddr(QHostAddress(QStringLiteral("192.0.2.1")), 7447));
}

void tst_NodeList::requeryCadenceAndIceServerSilent() {
    Client client;
    client.nodeList.setMaxUnansweredQueries(3);
    QList<qint64> sentAt;
    connect(&client.nodeList, &NodeList::iceServerQuerySent, this, [&] { sentAt.append(client.clock.nowMs()); });
    QSignalSpy errorSpy(&client.handler, &DomainHandler::errorOccurred);
    const qint64 start = client.clock.nowMs();
    client.connectToDomain();

    // A query at once and one per second; the check after the third finds it unanswered.
    client.clock.advance(3 * NodeList::DOMAIN_SERVER_CHECK_IN_MSECS - 1);
    QCOMPARE(errorSpy.count(), 0);
    client.clock.advance(1);
    QCOMPARE(errorSpy.count(), 1);
    QCOMPARE(errorSpy.first().first().value<DomainHandler::Error>(), DomainHandler::Error::IceServerSilent);
    QCOMPARE(sentAt, (QList<qint64> { start, start + 1000, start + 2000 }));
    // Every query of one attempt carries the same client ID and the pending domain.
    const auto queries = client.queries();
    QCOMPARE(queries.size(), 3);
    for (const IceServerQuery &query : queries) {
        QCOMPARE(query.clientID, client.handler.getICEClientID());
        QCOMPARE(query.domainID, domainID());
    }
    // Given up: no timer left to send anything.
    QVERIFY(!client.nodeList.isActive());
    client.clock.advance(60 * 1000);
    QCOMPARE(client.queries().size(), 3);
}

void tst_NodeList::domainUnknownWhenIceServerAnswers() {
    Client client;
    client.nodeList.setMaxUnansweredQueries(2);
    QSignalSpy errorSpy(&client.handler, &DomainHandler::errorOccurred);
    client.connectToDomain();
    // The ice-server answers the STUN probe: it is reachable, so silence about the domain means
    // it does not know the domain.
    const auto probe = sentStun(client.transport);
    QCOMPARE(probe.size(), 1);
    const QByteArray txid = StunMessage::decode(probe.first().datagram).value.transactionId;
    client.transport.inject(StunMessage::bindingSuccess(txid, clientPublic()).encode(), iceServer());
    QVERIFY(client.handler.wasIceServerHeardFrom());

    client.clock.advance(2 * NodeList::DOMAIN_SERVER_CHECK_IN_MSECS);
    QCOMPARE(errorSpy.count(), 1);
    QCOMPARE(errorSpy.first().first().value<DomainHandler::Error>(), DomainHandler::Error::DomainUnknown);
    QVERIFY(client.handler.errorString().contains(domainID().toString(QUuid::WithoutBraces)));
    // Once heard from, no further probes.
    QCOMPARE(sentStun(client.transport).size(), 1);
}

void tst_NodeList::pingRoundsFollowTtlSchedule_data() {
    // When each round goes out (ms after the peer information arrived) and with which TTL: the
    // priming rounds at once and spread over the lead, the first full-TTL round after it, then gaps
    // from the query's round trip (at least 25 ms), doubling up to upstream's 250 ms, until the
    // attempt ends at 2 s. The lead is 40 ms for a domain without NAT; for a domain behind one it is
    // the whole attempt: only priming rounds, full TTL only back to the domain's pings
    // (domainPingEndsTheWait).
    QTest::addColumn<QList<int>>("ttls");
    QTest::addColumn<int>("queryRttMs");
    QTest::addColumn<bool>("domainBehindNat");
    QTest::addColumn<QList<int>>("roundTimes");
    QTest::addColumn<QList<int>>("roundTtls");
    QTest::newRow("domain without NAT: 40 ms lead")
        << QList<int> { 2, 2 } << 0 << false
        << QList<int> { 0, 20, 40, 65, 115, 215, 415, 665, 915, 1165, 1415, 1665, 1915 }
        << QList<int> { 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    QTest::newRow("2,3, domain behind NAT: priming only")
        << QList<int> { 2, 3 } << 0 << true << QList<int> { 0, 1000 } << QList<int> { 2, 3 };
    QTest::newRow("default 2,2, query answered in 120 ms, domain without NAT")
        << QList<int> { 2, 2 } << 120 << false << QList<int> { 0, 20, 40, 160, 400, 650, 900, 1150, 1400, 1650, 1900 }
        << QList<int> { 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    QTest::newRow("one priming round, slow path (gap capped at 250 ms)")
        << QList<int> { 3 } << 900 << false << QList<int> { 0, 40, 290, 540, 790, 1040, 1290, 1540, 1790 }
        << QList<int> { 3, 0, 0, 0, 0, 0, 0, 0, 0 };
    QTest::newRow("no priming: full TTL at once")
        << QList<int> {} << 0 << true << QList<int> { 0, 25, 75, 175, 375, 625, 875, 1125, 1375, 1625, 1875 }
        << QList<int> { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
}

void tst_NodeList::pingRoundsFollowTtlSchedule() {
    QFETCH(QList<int>, ttls);
    QFETCH(int, queryRttMs);
    QFETCH(bool, domainBehindNat);
    QFETCH(QList<int>, roundTimes);
    QFETCH(QList<int>, roundTtls);
    Client client;
    QSignalSpy failedSpy(&client.nodeList, &NodeList::punchAttemptFailed);
    client.nodeList.setPunchTtlSchedule(PunchTtlSchedule(ttls));
    client.connectToDomain();
    client.clock.advance(queryRttMs);
    client.transport.clearSent();
    const SockAddr domainPublicSocket = domainBehindNat ? domainPublic() : domainLocal();
    client.transport.inject(datagram(PacketType::ICEServerPeerInformation,
                                     NetworkPeer(domainID(), domainPublicSocket, domainLocal()).toByteArray()),
                            iceServer());

    // Round 0 goes out at once: local then public, with the round's TTL.
    auto pings = sentOfType(client.transport, PacketType::ICEPing);
    const int perRound = domainBehindNat ? 2 : 1;
    QCOMPARE(pings.size(), perRound);
    QCOMPARE(pings.at(0).destination, domainLocal());
    QCOMPARE(pings.last().destination, domainPublicSocket);
    const QByteArray id = QByteArray::fromHex(uuidHex(client.handler.getICEClientID()));
    QCOMPARE(payloadOf(pings.at(0).datagram), id + hex("01"));
    QCOMPARE(payloadOf(pings.last().datagram), id + hex(domainBehindNat ? "02" : "01"));

    // Millisecond by millisecond: when each round went out, and with which TTL.
    QList<int> times { 0 };
    QList<int> roundTtl { pings.at(0).ttl };
    for (int ms = 1; ms < RoundsPerAttempt * Round; ++ms) {
        client.clock.advance(1);
        const auto now = sentOfType(client.transport, PacketType::ICEPing);
        if (now.size() > pings.size()) {
            QCOMPARE(now.size(), pings.size() + perRound);
            QCOMPARE(now.at(now.size() - 1).ttl, now.at(now.size() - perRound).ttl);
            times.append(ms);
            roundTtl.append(now.last().ttl);
            pings = now;
        }
    }
    QCOMPARE(times, roundTimes);
    QCOMPARE(roundTtl, roundTtls);
    // No query while punching, and the attempt ends at 2 s, not before.
    QCOMPARE(sentOfType(client.transport, PacketType::ICEServerQuery).size(), 0);
    QCOMPARE(failedSpy.count(), 0);
    client.clock.advance(1);
    QCOMPARE(failedSpy.count(), 1);
}

void tst_NodeList::domainPingEndsTheWait() {
    // Facing a domain behind a NAT the client primes and waits: its full-TTL ping could leave a stale
    // entry in the domain's NAT. The domain's first ping proves it has primed; the client pings back
    // at once, at full TTL, to where that ping came from, and the domain's reply completes discovery.
    Client client;
    QSignalSpy doneSpy(&client.handler, &DomainHandler::completedSocketDiscovery);
    client.connectToDomain();
    client.injectPeerInformation();
    client.clock.advance(PunchTiming::WaitForPeerLeadMs / 2 + 1); // both priming rounds, nothing more
    auto pings = sentOfType(client.transport, PacketType::ICEPing);
    QCOMPARE(pings.size(), 4);
    for (const auto &ping : pings) {
        QCOMPARE(ping.ttl, 2);
    }
    client.transport.clearSent();
    client.transport.inject(pingDatagram(PacketType::ICEPing, domainID(), PingType::Public), domainPublic());
    pings = sentOfType(client.transport, PacketType::ICEPing);
    QCOMPARE(pings.size(), 1);
    QCOMPARE(pings.at(0).destination, domainPublic());
    QCOMPARE(pings.at(0).ttl, 0);
    QCOMPARE(payloadOf(pings.at(0).datagram).right(1), hex("02"));
    QCOMPARE(sentOfType(client.transport, PacketType::ICEPingReply).size(), 1);
    client.transport.inject(pingDatagram(PacketType::ICEPingReply, domainID(), PingType::Public), domainPublic());
    QCOMPARE(doneSpy.count(), 1);
    QCOMPARE(client.handler.getSockAddr(), domainPublic());
    // Once discovered, a domain ping is only answered.
    client.transport.clearSent();
    client.transport.inject(pingDatagram(PacketType::ICEPing, domainID(), PingType::Public), domainPublic());
    QCOMPARE(sentOfType(client.transport, PacketType::ICEPing).size(), 0);
    QCOMPARE(sentOfType(client.transport, PacketType::ICEPingReply).size(), 1);
}

void tst_NodeList::attemptEndsAfterTwoSecondsWithFreshQuery() {
    Client client;
    QSignalSpy failedSpy(&client.nodeList, &NodeList::punchAttemptFailed);
    client.connectToDomain();
    const QUuid firstID = client.handler.getICEClientID();
    client.transport.clearSent();
    client.injectPeerInformation();

    // An attempt lasts upstream's 8 rounds of 250 ms: it ends at 2 s, after the two priming rounds
    // (the domain is behind NAT and never pinged: pingRoundsFollowTtlSchedule).
    client.clock.advance(RoundsPerAttempt * Round - 1);
    QCOMPARE(failedSpy.count(), 0);
    client.clock.advance(1);
    QCOMPARE(failedSpy.count(), 1);
    QCOMPARE(sentOfType(client.transport, PacketType::ICEPing).size(), 4);
    QVERIFY(!client.handler.hasIcePeerInformation());
    // A new attempt: a new ICE client ID and a new query at once, from the same port.
    const auto queries = client.queries();
    QCOMPARE(queries.size(), 1);
    QVERIFY(client.handler.getICEClientID() != firstID);
    QCOMPARE(queries.first().clientID, client.handler.getICEClientID());
    QCOMPARE(queries.first().localSocket, clientLocal());
    QCOMPARE(client.transport.rebindCount(), 0);
}

void tst_NodeList::freshPortRetryQueriesFromTheNewPortAfterStun() {
    // With fresh ports, a failed attempt moves the socket; the old public socket belonged to the
    // old port, so the next query waits for STUN to learn the new one.
    Client client;
    client.nodeList.setUseFreshPortOnRetry(true);
    client.transport.setNextPort(50999);
    client.limitedNodeList.setStunServer(stunServer.getAddress().toString(), stunServer.getPort());
    client.limitedNodeList.startSTUNPublicSocketUpdate();
    client.transport.inject(
        StunMessage::bindingSuccess(StunMessage::decode(sentStun(client.transport).last().datagram).value.transactionId,
                                    clientPublic())
            .encode(),
        stunServer);
    client.connectToDomain();
    QCOMPARE(client.queries().size(), 1);
    client.injectPeerInformation();
    QSignalSpy failedSpy(&client.nodeList, &NodeList::punchAttemptFailed);
    QSignalSpy reboundSpy(&client.limitedNodeList, &LimitedNodeList::transportRebound);
    client.transport.clearSent();

    client.clock.advance(RoundsPerAttempt * Round);
    QCOMPARE(failedSpy.count(), 1);
    QCOMPARE(client.transport.rebindCount(), 1);
    QCOMPARE(reboundSpy.count(), 1);
    QCOMPARE(client.limitedNodeList.getLocalSockAddr(), SockAddr(clientLocal().getAddress(), 50999));
    // No query yet: STUN runs again from the new port first.
    QCOMPARE(client.queries().size(), 0);
    const auto stun = sentStun(client.transport);
    QCOMPARE(stun.size(), 1);
    const SockAddr newPublic(clientPublic().getAddress(), 61234);
    client.transport.inject(
        StunMessage::bindingSuccess(StunMessage::decode(stun.first().datagram).value.transactionId, newPublic).encode(),
        stunServer);
    const auto queries = client.queries();
    QCOMPARE(queries.size(), 1);
    QCOMPARE(queries.first().publicSocket, newPublic);
    QCOMPARE(queries.first().localSocket, SockAddr(clientLocal().getAddress(), 50999));
}

void tst_NodeList::failedRebindRetriesOnTheOldSocket() {
    // A rebind that fails is not fatal here: the next attempt goes out through what is left (the
    // caller sees the transport's error on LimitedNodeList).
    Client client;
    client.nodeList.setUseFreshPortOnRetry(true);
    client.transport.setRebindError(QStringLiteral("no ports left"));
    QSignalSpy failedSpy(&client.nodeList, &NodeList::punchAttemptFailed);
    client.connectToDomain();
    client.injectPeerInformation();
    client.transport.clearSent();
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("rebind failed.*no ports left")));
    client.clock.advance(RoundsPerAttempt * Round);
    QCOMPARE(failedSpy.count(), 1);
    QCOMPARE(client.transport.rebindCount(), 1);
    QCOMPARE(client.limitedNodeList.errorString(), QStringLiteral("no ports left"));
    QCOMPARE(client.queries().size(), 1);
}

void tst_NodeList::punchFailedAfterMaxAttempts() {
    Client client;
    client.nodeList.setMaxPunchAttempts(1);
    QSignalSpy errorSpy(&client.handler, &DomainHandler::errorOccurred);
    client.connectToDomain();
    client.injectPeerInformation();
    client.clock.advance(RoundsPerAttempt * Round);
    QCOMPARE(errorSpy.count(), 1);
    QCOMPARE(errorSpy.first().first().value<DomainHandler::Error>(), DomainHandler::Error::PunchFailed);
    QCOMPARE(client.handler.diagnose(), DomainHandler::Error::PunchFailed);
    QVERIFY(!client.nodeList.isActive());
    QVERIFY(client.handler.errorString().contains(domainPublic().toString()));
}

void tst_NodeList::noPrimingWhenScheduleDisabled() {
    Client client;
    PunchTtlSchedule none;
    QVERIFY(PunchTtlSchedule::parse(QStringLiteral("0"), &none));
    client.nodeList.setPunchTtlSchedule(none);
    client.connectToDomain();
    client.transport.clearSent();
    client.injectPeerInformation();
    const auto pings = sentOfType(client.transport, PacketType::ICEPing);
    QCOMPARE(pings.size(), 2);
    QCOMPARE(pings.at(0).ttl, 0);
    QCOMPARE(pings.at(1).ttl, 0);
}

void tst_NodeList::answersOnlyPendingDomainPings() {
    Client client;
    // Not connecting to anything: no answer even to a well-formed ping.
    const SockAddr stranger(QHostAddress(QStringLiteral("192.0.2.77")), 1234);
    client.transport.inject(pingDatagram(PacketType::ICEPing, domainID(), PingType::Public), stranger);
    QCOMPARE(sentOfType(client.transport, PacketType::ICEPingReply).size(), 0);

    client.connectToDomain();
    client.transport.clearSent();
    QSignalSpy answered(&client.nodeList, &NodeList::domainPingAnswered);
    client.transport.inject(pingDatagram(PacketType::ICEPing, QUuid::createUuid(), PingType::Public), stranger);
    client.transport.inject(datagram(PacketType::ICEPing, hex("0102")), stranger);
    QCOMPARE(sentOfType(client.transport, PacketType::ICEPingReply).size(), 0);
    QCOMPARE(answered.size(), 0);

    client.transport.inject(pingDatagram(PacketType::ICEPing, domainID(), PingType::Public), domainPublic());
    const auto replies = sentOfType(client.transport, PacketType::ICEPingReply);
    QCOMPARE(replies.size(), 1);
    QCOMPARE(answered.size(), 1);
    QCOMPARE(answered.first().first().value<SockAddr>(), domainPublic());
    QCOMPARE(replies.first().destination, domainPublic());
    // Our ICE client ID and the ping's type (docs/protocol.md 3.6).
    QCOMPARE(replies.first().datagram.mid(4).toHex(' '),
             (hex("2811") + QByteArray::fromHex(uuidHex(client.handler.getICEClientID())) + hex("02")).toHex(' '));
}

void tst_NodeList::domainPingFromUnreportedAddressBecomesSymmetric() {
    Client client;
    QSignalSpy doneSpy(&client.handler, &DomainHandler::completedSocketDiscovery);
    client.connectToDomain();
    client.injectPeerInformation();
    const SockAddr symmetric(domainPublic().getAddress(), 61001);
    client.transport.clearSent();
    client.transport.inject(pingDatagram(PacketType::ICEPing, domainID(), PingType::Public), symmetric);
    QCOMPARE(client.handler.getICEPeer().getSymmetricSocket(), symmetric);
    // Answered, and pinged back at once at full TTL rather than a round later (domainPingEndsTheWait).
    auto sent = sentOfType(client.transport, PacketType::ICEPing);
    QCOMPARE(sent.size(), 1);
    QCOMPARE(sent.at(0).destination, symmetric);
    QCOMPARE(sent.at(0).ttl, 0);
    QCOMPARE(payloadOf(sent.at(0).datagram).right(1), hex("03"));
    QCOMPARE(sentOfType(client.transport, PacketType::ICEPingReply).size(), 1);
    client.transport.clearSent();

    // The next round (the second priming one, halfway through the lead) pings the symmetric socket
    // too, with the normal TTL.
    client.clock.advance(PunchTiming::WaitForPeerLeadMs / 2);
    const auto pings = sentOfType(client.transport, PacketType::ICEPing);
    QCOMPARE(pings.size(), 3);
    QCOMPARE(pings.at(0).ttl, 2);
    QCOMPARE(pings.at(2).destination, symmetric);
    QCOMPARE(pings.at(2).ttl, 0);
    QCOMPARE(payloadOf(pings.at(2).datagram).right(1), hex("03"));

    client.transport.inject(pingDatagram(PacketType::ICEPingReply, domainID(), PingType::Symmetric), symmetric);
    QCOMPARE(doneSpy.count(), 1);
    QCOMPARE(client.handler.getSockAddr(), symmetric);
    QCOMPARE(client.handler.getICEPeer().activeSocketKind(), NetworkPeer::ActiveSocket::Symmetric);
}

void tst_NodeList::replyCompletesDiscoveryAndStopsPinging() {
    Client client;
    QSignalSpy doneSpy(&client.handler, &DomainHandler::completedSocketDiscovery);
    client.connectToDomain();
    client.injectPeerInformation();
    client.transport.inject(pingDatagram(PacketType::ICEPingReply, domainID(), PingType::Local), domainLocal());
    QCOMPARE(doneSpy.count(), 1);
    QCOMPARE(client.handler.getSockAddr(), domainLocal());
    QVERIFY(!client.nodeList.isActive());
    client.transport.clearSent();

    // Keepalive pings go to the discovered socket.
    QVERIFY(client.nodeList.sendPingToDomain());
    const auto pings = sentOfType(client.transport, PacketType::ICEPing);
    QCOMPARE(pings.size(), 1);
    QCOMPARE(pings.first().destination, domainLocal());
}

void tst_NodeList::punchTtlScheduleParsing() {
    PunchTtlSchedule schedule;
    QVERIFY(PunchTtlSchedule::parse(QStringLiteral("2,3"), &schedule));
    QCOMPARE(schedule.ttls(), (QList<int> { 2, 3 }));
    QCOMPARE(schedule.ttlForRound(0), 2);
    QCOMPARE(schedule.ttlForRound(1), 3);
    QCOMPARE(schedule.ttlForRound(2), 0);
    QCOMPARE(schedule.toString(), QStringLiteral("2,3"));
    QVERIFY(PunchTtlSchedule::parse(QStringLiteral(""), &schedule));
    QVERIFY(!schedule.isPriming());
    QVERIFY(PunchTtlSchedule::parse(QStringLiteral(" 4 , 0 ,5"), &schedule));
    QCOMPARE(schedule.ttls(), (QList<int> { 4, 0, 5 }));
    QVERIFY(!PunchTtlSchedule::parse(QStringLiteral("2,x"), &schedule));
    QVERIFY(!PunchTtlSchedule::parse(QStringLiteral("256"), &schedule));
    QVERIFY(!PunchTtlSchedule::parse(QStringLiteral("-1"), &schedule));
    QCOMPARE(PunchTtlSchedule::defaultSchedule().ttls(), (QList<int> { 2, 2 }));
}

void tst_NodeList::nodeListIsALimitedNodeList() {
    // Upstream's shape: the NodeList owns the socket; a check-in for an ICE domain queries at once.
    FakeClock clock;
    FakeTransport transport(clientLocal());
    NodeList nodeList(&transport, clock);
    LimitedNodeList *asLimited = &nodeList;
    QCOMPARE(nodeList.getLimitedNodeList(), asLimited);
    QCOMPARE(asLimited->getTransport(), static_cast<UdpTransport *>(&transport));
    nodeList.sendDomainServerCheckIn(); // no domain yet: nothing to do
    QVERIFY(sentOfType(transport, PacketType::ICEServerQuery).isEmpty());
    QSignalSpy queried(&nodeList, &NodeList::iceServerQuerySent);
    nodeList.getDomainHandler().setIceServerHostPortAndID(iceServer().getAddress().toString(), iceServer().getPort(),
                                                          domainID());
    QCOMPARE(queried.size(), 1);
    QCOMPARE(sentOfType(transport, PacketType::ICEServerQuery).size(), 1);
    QVERIFY(nodeList.hasFlaggedConnectionStep(LimitedNodeList::SendICEServerQuery));
    nodeList.sendDomainServerCheckIn(); // already querying: the check-in sends the next query
    QCOMPARE(sentOfType(transport, PacketType::ICEServerQuery).size(), 2);
}

QTEST_GUILESS_MAIN(tst_NodeList)
#include "tst_nodelist.moc"

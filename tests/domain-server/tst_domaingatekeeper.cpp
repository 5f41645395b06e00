// DomainGatekeeper: the domain's ping-punch (docs/protocol.md 4.4) with our differences: priming TTLs,
// refreshed sockets for a known peer (Q13), replies only to known peers from any source (Q2),
// connected peers kept for keepalives, introductions only from the ice-server, and the Q5 bounds
// as the gatekeeper applies them (their boundaries: tst_iceadmission). Every gatekeeper runs on the
// network's FakeClock, so rounds and timeouts happen exactly when the test advances time.
#include "DomainTestUtil.h"

#include <DomainGatekeeper.h>
#include <PunchTiming.h>
#include <PunchTtlSchedule.h>

class tst_DomainGatekeeper : public QObject {
    Q_OBJECT

    const QUuid domainID = samples::domainID();
    const QUuid clientID = samples::clientID();
    const SockAddr iceServer = samples::iceServer();
    const SockAddr clientPublic = samples::clientPublic();
    const SockAddr clientLocal = samples::clientLocal();

    static constexpr int Round = PunchRound::IntervalMs;

    static DomainGatekeeper::Options defaults() { return DomainGatekeeper::Options(); }
    // Rounds go out only when a test calls pingPunchForConnectingPeer: the next timed one is an hour
    // away, and the attempt lasts 100 hours.
    static PunchTiming::Params handDriven() {
        PunchTiming::Params params;
        params.leadMs = params.minGapMs = params.maxGapMs = 3600 * 1000;
        params.attemptMs = 100 * 3600 * 1000;
        return params;
    }

    void introduce(FakeNetwork &net, const QUuid &id, const SockAddr &pub, const SockAddr &local) {
        net.inject(PacketType::ICEServerPeerInformation, NetworkPeer(id, pub, local).toByteArray(), iceServer);
    }

    static QList<IcePing> decodePings(const QList<std::pair<NLDatagram, FakeTransport::Sent>> &sent) {
        QList<IcePing> out;
        for (const auto &item : sent) {
            out.append(IcePing::fromPayload(item.first.payload).value);
        }
        return out;
    }

private Q_SLOTS:
    // Both sides prime with the same default (tests/nat/README.md: measured there).
    void defaultPunchTtlsMatchTheClients() {
        QCOMPARE(DomainGatekeeper::Options().punchTtls.ttls(), (QList<int> { 2, 2 }));
        QVERIFY(DomainGatekeeper::Options().punchTtls == PunchTtlSchedule::defaultSchedule());
    }

    void roundsWithPrimingTtlsThenDropAfterTwoSeconds() {
        FakeNetwork net;
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, defaults(), net.clock);
        QSignalSpy removed(&gatekeeper, &DomainGatekeeper::icePeerRemoved);
        introduce(net, clientID, clientPublic, clientLocal);
        // Round 0 goes out at once: local then public, both primed with TTL 2.
        auto pings = net.sentOfType(PacketType::ICEPing);
        QCOMPARE(pings.size(), 2);
        QCOMPARE(pings[0].second.destination, clientLocal);
        QCOMPARE(pings[1].second.destination, clientPublic);

        net.clock.advance(8 * Round);
        QCOMPARE(removed.size(), 1);
        QCOMPARE(removed.first().at(1).value<DomainGatekeeper::RemovalReason>(),
                 DomainGatekeeper::RemovalReason::NoReply);
        QVERIFY(!gatekeeper.hasIcePeer(clientID));
        pings = net.sentOfType(PacketType::ICEPing);
        QCOMPARE(pings.size(), 26); // 13 rounds x 2 sockets (defaultTiming)
        const QList<IcePing> decoded = decodePings(pings);
        for (int i = 0; i < pings.size(); ++i) {
            const int round = i / 2;
            QCOMPARE(pings[i].second.ttl, round < 2 ? 2 : 0); // the default priming: 2,2
            QCOMPARE(pings[i].first.version, PacketVersion(18));
            QCOMPARE(decoded[i].senderID, domainID); // the domain pings with its own ID
            QCOMPARE(decoded[i].pingType, i % 2 ? PingType::Public : PingType::Local);
        }
        QCOMPARE(gatekeeper.counters().peersGaveUp, quint64(1));
    }

    void defaultTiming() {
        // The client's schedule (tst_punchround, tst_nodelist), with no round trip known: priming at
        // 0 and 20 ms, full TTL from 40 ms backing off from 25 ms to 250 ms; dropped at 2 s, when an
        // upstream client stops pinging too.
        FakeNetwork net;
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, defaults(), net.clock);
        QCOMPARE(gatekeeper.options().punchTiming.leadMs, PunchTiming::Params().leadMs);
        QCOMPARE(gatekeeper.options().punchTiming.attemptMs, 8 * Round);
        QSignalSpy removed(&gatekeeper, &DomainGatekeeper::icePeerRemoved);
        introduce(net, clientID, clientPublic, clientLocal);
        QList<int> times { 0 };
        int sent = net.sentOfType(PacketType::ICEPing).size();
        for (int ms = 1; ms < 8 * Round; ++ms) {
            net.clock.advance(1);
            const int now = net.sentOfType(PacketType::ICEPing).size();
            if (now > sent) {
                QCOMPARE(now, sent + 2);
                times.append(ms);
                sent = now;
            }
        }
        QCOMPARE(times, (QList<int> { 0, 20, 40, 65, 115, 215, 415, 665, 915, 1165, 1415, 1665, 1915 }));
        QCOMPARE(removed.size(), 0);
        net.clock.advance(1);
        QCOMPARE(removed.size(), 1);
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 26);
        QCOMPARE(net.clock.activeTimerCount(), 0);
    }

    void upstreamPeerSlotsActOnTheIntroducedPeer() {
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        options.punchTtls = {};
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        SharedNetworkPeer peer = QSharedPointer<NetworkPeer>::create(clientID, clientPublic, clientLocal);
        SharedNetworkPeer stranger = QSharedPointer<NetworkPeer>::create(QUuid::createUuid(), clientPublic,
                                                                         clientLocal);
        QObject::connect(peer.data(), &NetworkPeer::pingTimerTimeout, &gatekeeper,
                         &DomainGatekeeper::handlePeerPingTimeout);
        introduce(net, clientID, clientPublic, clientLocal);
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 2); // round 0

        gatekeeper.pingPunchForConnectingPeer(peer); // round 1
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 4);
        Q_EMIT peer->pingTimerTimeout(); // round 2, through sender()
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 6);
        QCOMPARE(gatekeeper.icePeer(clientID).getConnectionAttempts(), 3);
        gatekeeper.pingPunchForConnectingPeer(stranger); // never introduced: nothing
        gatekeeper.handlePeerPingTimeout();              // no sender: nothing
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 6);

        QSignalSpy removed(&gatekeeper, &DomainGatekeeper::icePeerRemoved);
        gatekeeper.cleanupICEPeerForNode(clientID);
        QVERIFY(!gatekeeper.hasIcePeer(clientID));
        QCOMPARE(removed.size(), 1);
        net.clock.advance(10 * Round); // its punch stopped
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 6);
    }

    void samePublicAndLocalGetOnePingPerRound() {
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        options.punchTtls = {};
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        introduce(net, clientID, clientLocal, clientLocal);
        const auto pings = net.sentOfType(PacketType::ICEPing);
        QCOMPARE(pings.size(), 1);
        QCOMPARE(pings[0].second.ttl, 0);
    }

    void answersOnlyKnownPeersAndLearnsTheirSymmetricSocket() {
        FakeNetwork net;
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, defaults(), net.clock);
        const SockAddr stranger = sock("198.18.0.1", 5000);
        net.inject(PacketType::ICEPing, IcePing { QUuid::createUuid(), PingType::Public }.toPayload(), stranger);
        QCOMPARE(net.sentOfType(PacketType::ICEPingReply).size(), 0);
        QCOMPARE(gatekeeper.counters().pingsFromUnknownPeers, quint64(1));

        introduce(net, clientID, clientPublic, clientLocal);
        // A symmetric NAT: the client's pings come from a port it never reported.
        const SockAddr observed = sock("203.0.113.5", 61000);
        net.inject(PacketType::ICEPing, IcePing { clientID, PingType::Public }.toPayload(), observed);
        const auto replies = net.sentOfType(PacketType::ICEPingReply);
        QCOMPARE(replies.size(), 1);
        QCOMPARE(replies[0].second.destination, observed);
        QCOMPARE(replies[0].first.version, PacketVersion(17));
        const IcePing reply = IcePing::fromPayload(replies[0].first.payload).value;
        QCOMPARE(reply.senderID, domainID);
        QCOMPARE(reply.pingType, PingType::Public);
        QCOMPARE(gatekeeper.icePeer(clientID).getSymmetricSocket(), observed);

        // The next round (round 1, still priming) pings the observed socket as well, at full TTL:
        // the client's own ping came from there, so nothing stale can be left by reaching it
        // (PunchRound.h); the reported sockets keep the priming TTL.
        net.transport.clearSent();
        gatekeeper.pingPunchForConnectingPeer(clientID);
        const auto round1 = net.sentOfType(PacketType::ICEPing);
        QCOMPARE(round1.size(), 3);
        QCOMPARE(round1[0].second.destination, clientLocal);
        QCOMPARE(round1[0].second.ttl, 2);
        QCOMPARE(round1[1].second.destination, clientPublic);
        QCOMPARE(round1[1].second.ttl, 2);
        QCOMPARE(round1[2].second.destination, observed);
        QCOMPARE(round1[2].second.ttl, 0);
        QCOMPARE(IcePing::fromPayload(round1[2].first.payload).value.pingType, PingType::Symmetric);

        // A malformed ping is dropped, not answered.
        net.transport.clearSent();
        net.inject(PacketType::ICEPing, QByteArray(5, 'x'), observed);
        QCOMPARE(net.transport.sent().size(), 0);
    }

    void pingThatBeatsItsIntroductionIsAnsweredOnArrival() {
        // The ice-server answers the client first; the client pings at once, and its ping can
        // reach us before our copy of the introduction. It must not cost the client a round.
        FakeNetwork net;
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, defaults(), net.clock);
        net.inject(PacketType::ICEPing, IcePing { clientID, PingType::Local }.toPayload(), clientLocal);
        QCOMPARE(net.sentOfType(PacketType::ICEPingReply).size(), 0);
        introduce(net, clientID, clientPublic, clientLocal);
        const auto replies = net.sentOfType(PacketType::ICEPingReply);
        QCOMPARE(replies.size(), 1);
        QCOMPARE(replies[0].second.destination, clientLocal);
        QCOMPARE(IcePing::fromPayload(replies[0].first.payload).value.pingType, PingType::Local);
        QCOMPARE(gatekeeper.counters().earlyPingsAnswered, quint64(1));
        // Remembered once only: a second introduction does not answer it again.
        introduce(net, clientID, clientPublic, clientLocal);
        QCOMPARE(net.sentOfType(PacketType::ICEPingReply).size(), 1);
    }

    void replyActivatesThePeerAndStopsPinging() {
        FakeNetwork net;
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, defaults(), net.clock);
        QSignalSpy connected(&gatekeeper, &DomainGatekeeper::peerConnected);
        introduce(net, clientID, clientPublic, clientLocal);
        net.inject(PacketType::ICEPingReply, IcePing { clientID, PingType::Public }.toPayload(), clientPublic);
        QCOMPARE(connected.size(), 1);
        QCOMPARE(connected.first().at(0).toUuid(), clientID);
        QCOMPARE(connected.first().at(1).value<SockAddr>(), clientPublic);
        QVERIFY(gatekeeper.isConnected(clientID));
        QCOMPARE(gatekeeper.icePeer(clientID).activeSocketKind(), NetworkPeer::ActiveSocket::Public);

        const int pingsSoFar = net.sentOfType(PacketType::ICEPing).size();
        net.clock.advance(10 * Round); // ten rounds' time: no ping may go out once connected
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), pingsSoFar);
        net.inject(PacketType::ICEPingReply, IcePing { clientID, PingType::Local }.toPayload(), clientLocal);
        QCOMPARE(connected.size(), 1); // already connected: no second signal

        // A reply for an unknown peer changes nothing.
        net.inject(PacketType::ICEPingReply, IcePing { QUuid::createUuid(), PingType::Public }.toPayload(),
                   clientPublic);
        QCOMPARE(connected.size(), 1);
    }

    void replyFromUnreportedSocketActivatesItAsSymmetric() {
        FakeNetwork net;
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, defaults(), net.clock);
        QSignalSpy connected(&gatekeeper, &DomainGatekeeper::peerConnected);
        introduce(net, clientID, clientPublic, clientLocal);
        const SockAddr observed = sock("203.0.113.5", 61001);
        net.inject(PacketType::ICEPingReply, IcePing { clientID, PingType::Public }.toPayload(), observed);
        QCOMPARE(connected.size(), 1);
        QCOMPARE(connected.first().at(1).value<SockAddr>(), observed);
        QCOMPARE(gatekeeper.icePeer(clientID).activeSocketKind(), NetworkPeer::ActiveSocket::Symmetric);
    }

    void connectedPeerAnswersKeepalivesThenExpires() {
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        options.connectedPeerTimeoutMs = 300;
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        QSignalSpy removed(&gatekeeper, &DomainGatekeeper::icePeerRemoved);
        introduce(net, clientID, clientPublic, clientLocal);
        net.inject(PacketType::ICEPingReply, IcePing { clientID, PingType::Public }.toPayload(), clientPublic);

        // Keepalives over the punched path, well past the 8-round punch: answered, and they keep
        // the peer alive beyond its silence timeout.
        for (int i = 0; i < 25; ++i) {
            net.clock.advance(100);
            net.inject(PacketType::ICEPing, IcePing { clientID, PingType::Public }.toPayload(), clientPublic);
        }
        QCOMPARE(net.sentOfType(PacketType::ICEPingReply).size(), 25);
        QCOMPARE(removed.size(), 0);

        // Silent from now: still held 299 ms later; gone at the first sweep (every 300/4 ms) after 300.
        net.clock.advance(options.connectedPeerTimeoutMs - 1);
        QCOMPARE(removed.size(), 0);
        net.clock.advance(options.connectedPeerTimeoutMs / 4 + 1);
        QCOMPARE(removed.size(), 1);
        QCOMPARE(removed.first().at(1).value<DomainGatekeeper::RemovalReason>(),
                 DomainGatekeeper::RemovalReason::Silent);
        net.inject(PacketType::ICEPing, IcePing { clientID, PingType::Public }.toPayload(), clientPublic);
        QCOMPARE(net.sentOfType(PacketType::ICEPingReply).size(), 25);
        QCOMPARE(gatekeeper.counters().peersExpired, quint64(1));
    }

    void knownPeerIsRefreshedAndPunchedAfresh() {
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        options.punchTiming = handDriven();
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        introduce(net, clientID, clientPublic, clientLocal);
        gatekeeper.pingPunchForConnectingPeer(clientID);
        gatekeeper.pingPunchForConnectingPeer(clientID);
        QCOMPARE(gatekeeper.icePeer(clientID).getConnectionAttempts(), 3);

        // The client re-queried from a fresh port: upstream ignores this (Q13); we take it.
        const SockAddr newPublic = sock("203.0.113.5", 50999);
        const SockAddr newLocal = sock("192.168.1.10", 50999);
        net.transport.clearSent();
        introduce(net, clientID, newPublic, newLocal);
        QCOMPARE(gatekeeper.counters().peersRefreshed, quint64(1));
        QCOMPARE(gatekeeper.icePeerCount(), 1);
        QCOMPARE(gatekeeper.icePeer(clientID).getPublicSocket(), newPublic);
        const auto pings = net.sentOfType(PacketType::ICEPing);
        QCOMPARE(pings.size(), 2);
        QCOMPARE(pings[0].second.destination, newLocal);
        QCOMPARE(pings[1].second.destination, newPublic);
        QCOMPARE(pings[0].second.ttl, 2); // priming starts again
        QCOMPARE(gatekeeper.icePeer(clientID).getConnectionAttempts(), 1);
    }

    void introductionsOnlyFromTheIceServer() {
        FakeNetwork net;
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, defaults(), net.clock);
        gatekeeper.setIceServerFilter(
            [this](const SockAddr &sender) { return sender.getAddress() == iceServer.getAddress(); });
        net.inject(PacketType::ICEServerPeerInformation, NetworkPeer(clientID, clientPublic, clientLocal).toByteArray(),
                   sock("198.18.0.1", 7337));
        QCOMPARE(gatekeeper.icePeerCount(), 0);
        QCOMPARE(net.transport.sent().size(), 0);
        QCOMPARE(gatekeeper.counters().peerInformationIgnored, quint64(1));
        introduce(net, clientID, clientPublic, clientLocal);
        QCOMPARE(gatekeeper.icePeerCount(), 1);
        // Our own ID and malformed records are not peers.
        introduce(net, domainID, clientPublic, clientLocal);
        net.inject(PacketType::ICEServerPeerInformation, QByteArray(7, '\0'), iceServer);
        QCOMPARE(gatekeeper.icePeerCount(), 1);
        QCOMPARE(gatekeeper.counters().peerInformationIgnored, quint64(3));
    }

    void peerCapBounds() {
        // The cap holds; when every slot holds a connected peer, a new one is refused.
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        options.maxIcePeers = 2;
        options.punchTiming = handDriven();
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        QSignalSpy rejected(&gatekeeper, &DomainGatekeeper::peerRejected);
        const QUuid first = QUuid::createUuid();
        const QUuid second = QUuid::createUuid();
        introduce(net, first, clientPublic, clientLocal);
        introduce(net, second, sock("203.0.113.6", 1), sock("192.168.1.11", 1));
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 4);
        net.inject(PacketType::ICEPingReply, IcePing { first, PingType::Public }.toPayload(), clientPublic);
        net.inject(PacketType::ICEPingReply, IcePing { second, PingType::Public }.toPayload(), sock("203.0.113.6", 1));
        QVERIFY(gatekeeper.isConnected(first));
        QVERIFY(gatekeeper.isConnected(second));
        const QUuid third = QUuid::createUuid();
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("ICE peer limit \\(2\\) reached, all connected")));
        introduce(net, third, sock("203.0.113.7", 1), sock("192.168.1.12", 1));
        QCOMPARE(gatekeeper.icePeerCount(), 2);
        QVERIFY(!gatekeeper.hasIcePeer(third));
        QCOMPARE(rejected.size(), 1);
        QCOMPARE(rejected.first().first().toUuid(), third);
        QCOMPARE(gatekeeper.counters().peersRejected, quint64(1));
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 4); // nothing for the refused peer
    }

    void fullTableEvictsTheOldestUnconnectedPeer() {
        // A flood of introductions must not lock real clients out: a new peer takes the place of
        // the oldest one still punching, never of a connected one.
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        options.maxIcePeers = 3;
        options.punchTiming = handDriven();
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        QSignalSpy removed(&gatekeeper, &DomainGatekeeper::icePeerRemoved);
        const QUuid connected = QUuid::createUuid();
        introduce(net, connected, clientPublic, clientLocal);
        net.inject(PacketType::ICEPingReply, IcePing { connected, PingType::Public }.toPayload(), clientPublic);
        QVERIFY(gatekeeper.isConnected(connected));
        const QUuid oldest = QUuid::createUuid();
        const QUuid younger = QUuid::createUuid();
        introduce(net, oldest, sock("203.0.113.20", 1), sock("192.168.1.20", 1));
        net.clock.advance(1);
        introduce(net, younger, sock("203.0.113.21", 1), sock("192.168.1.21", 1));
        net.clock.advance(1);
        const QUuid newcomer = QUuid::createUuid();
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("oldest unconnected peers make room")));
        introduce(net, newcomer, sock("203.0.113.22", 1), sock("192.168.1.22", 1));
        QCOMPARE(gatekeeper.icePeerCount(), 3);
        QVERIFY(gatekeeper.hasIcePeer(connected));
        QVERIFY(!gatekeeper.hasIcePeer(oldest));
        QVERIFY(gatekeeper.hasIcePeer(younger));
        QVERIFY(gatekeeper.hasIcePeer(newcomer));
        QCOMPARE(gatekeeper.counters().peersEvicted, quint64(1));
        QCOMPARE(gatekeeper.counters().peersRejected, quint64(0));
        QCOMPARE(removed.size(), 1);
        QCOMPARE(removed.first().at(0).toUuid(), oldest);
        QCOMPARE(removed.first().at(1).value<DomainGatekeeper::RemovalReason>(),
                 DomainGatekeeper::RemovalReason::Evicted);
    }

    void floodAtOneAddressTakesOnlyItsOwnSlots() {
        // hostile.sh's flood: many fresh client IDs, all naming one victim. They get a handful of
        // slots; a real client elsewhere is still taken and punched, and so is the victim's address
        // again once its peers connected or were dropped.
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        options.maxIcePeers = 128;
        options.maxConnectingPeersPerTarget = 4;
        options.punchTiming = handDriven();
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        QSignalSpy rejected(&gatekeeper, &DomainGatekeeper::peerRejected);
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("4 ICE peers at 198.18.0.99 still punching")));
        QList<QUuid> flood;
        for (quint16 port = 1; port <= 300; ++port) {
            flood.append(QUuid::createUuid());
            introduce(net, flood.last(), sock("198.18.0.99", port), sock("198.18.0.99", port));
        }
        QCOMPARE(gatekeeper.icePeerCount(), 4);
        QCOMPARE(rejected.size(), 296);
        QCOMPARE(gatekeeper.counters().peersRejectedPerTarget, quint64(296));
        net.transport.clearSent();
        introduce(net, clientID, clientPublic, clientLocal);
        QVERIFY(gatekeeper.hasIcePeer(clientID));
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 2);
        // A re-introduction of a held peer is a refresh, not a new slot.
        introduce(net, flood.first(), sock("198.18.0.99", 7), sock("198.18.0.99", 7));
        QCOMPARE(gatekeeper.counters().peersRefreshed, quint64(1));
        // Slots free up as peers leave.
        gatekeeper.removeICEPeer(flood.first());
        const QUuid later = QUuid::createUuid();
        introduce(net, later, sock("198.18.0.99", 9), sock("198.18.0.99", 9));
        QVERIFY(gatekeeper.hasIcePeer(later));
        // A connected peer no longer holds a punching slot.
        net.inject(PacketType::ICEPingReply, IcePing { later, PingType::Public }.toPayload(), sock("198.18.0.99", 9));
        QVERIFY(gatekeeper.isConnected(later));
        const QUuid again = QUuid::createUuid();
        introduce(net, again, sock("198.18.0.99", 10), sock("198.18.0.99", 10));
        QVERIFY(gatekeeper.hasIcePeer(again));
    }

    void clientsRelayedThroughOneTurnServerAllConnect_data() {
        QTest::addColumn<bool>("trusted");
        QTest::addColumn<int>("admitted");
        // Untrusted, the relay's IP is one address like any other: 4 slots for all its clients.
        QTest::newRow("relay not trusted") << false << 4;
        QTest::newRow("trusted relay") << true << 20;
    }
    void clientsRelayedThroughOneTurnServerAllConnect() {
        // Twenty clients fall back to one TURN server within the same instant: their public sockets
        // are twenty relayed addresses on the relay's one IP.
        QFETCH(bool, trusted);
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        const QHostAddress relay(QStringLiteral("203.0.113.7"));
        if (trusted) {
            options.trustedRelays = { relay };
        }
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        if (!trusted) {
            QTest::ignoreMessage(QtWarningMsg,
                                 QRegularExpression(QStringLiteral("4 ICE peers at 203.0.113.7 still punching")));
        }
        QList<QUuid> clients;
        for (int i = 0; i < 20; ++i) {
            clients.append(QUuid::createUuid());
            introduce(net, clients.last(), SockAddr(relay, quint16(49152 + i)),
                      SockAddr(QHostAddress(quint32(0x0A000002u + quint32(i << 8))), 5000));
        }
        QTEST(gatekeeper.icePeerCount(), "admitted");
        // Past the priming rounds each admitted client's relayed address is pinged at full TTL
        // (the relay drops low-TTL pings' kin: they never reach it); each answers through it.
        for (int round = 0; round < options.punchTtls.ttls().size(); ++round) {
            net.clock.advance(Round);
        }
        int connected = 0;
        for (int i = 0; i < clients.size(); ++i) {
            const SockAddr relayed(relay, quint16(49152 + i));
            if (!gatekeeper.hasIcePeer(clients.at(i))) {
                continue;
            }
            bool pinged = false;
            for (const auto &item : net.sentOfType(PacketType::ICEPing)) {
                pinged = pinged || (item.second.destination == relayed && item.second.ttl == 0);
            }
            QVERIFY2(pinged, qPrintable(relayed.toString()));
            net.inject(PacketType::ICEPingReply, IcePing { clients.at(i), PingType::Public }.toPayload(), relayed);
            connected += gatekeeper.isConnected(clients.at(i)) ? 1 : 0;
        }
        QTEST(connected, "admitted");
        QCOMPARE(gatekeeper.counters().datagramsSuppressed, quint64(0));
    }

    void floodClaimingATrustedRelaysIpIsStillBounded() {
        // Anyone may name a trusted relay's IP as its public socket. One relayed address still gets
        // the per-address slots, all of them together the relay's share, its pings the relay's
        // budget; clients elsewhere are untouched.
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        const QHostAddress relay(QStringLiteral("203.0.113.7"));
        options.trustedRelays = { relay };
        options.maxConnectingPeersPerRelay = 16;
        options.maxPingsPerRelay = 100;
        options.pingWindowMs = 3600 * 1000;
        // Rounds a fixed Round apart, so the test can step through every one of them.
        options.punchTiming.leadMs = options.punchTiming.minGapMs = options.punchTiming.maxGapMs = Round;
        options.punchTiming.attemptMs = 8 * Round;
        const int rounds = PunchTiming(options.punchTtls, 0, options.punchTiming).roundCount();
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("4 ICE peers at 203.0.113.7:3478 still punching")));
        for (int i = 0; i < 50; ++i) {
            introduce(net, QUuid::createUuid(), SockAddr(relay, 3478), SockAddr(relay, 3478));
        }
        QCOMPARE(gatekeeper.icePeerCount(), 4);
        for (quint16 port = 1; port <= 300; ++port) {
            introduce(net, QUuid::createUuid(), SockAddr(relay, quint16(40000 + port)), SockAddr(relay, 1));
        }
        QCOMPARE(gatekeeper.icePeerCount(), 16);
        QCOMPARE(gatekeeper.counters().peersRejectedPerTarget, quint64(46 + 288));
        introduce(net, clientID, clientPublic, clientLocal);
        QVERIFY(gatekeeper.hasIcePeer(clientID));
        // Every round of every held peer: the relay's IP gets its budget and no more.
        for (int round = 1; round <= rounds; ++round) {
            net.clock.advance(Round);
        }
        int chargedToRelay = 0;
        for (const auto &item : net.sentOfType(PacketType::ICEPing)) {
            const PingType type = IcePing::fromPayload(item.first.payload).value.pingType;
            chargedToRelay += item.second.destination.getAddress() == relay
                                      && IceAdmission::isCharged(PacketType::ICEPing, type, item.second.ttl)
                                  ? 1
                                  : 0;
        }
        QCOMPARE(chargedToRelay, 100);
        QVERIFY(gatekeeper.counters().datagramsSuppressed > 0);
        // The direct client's own pings were never suppressed: it was pinged in every round.
        int toClient = 0;
        for (const auto &item : net.sentOfType(PacketType::ICEPing)) {
            toClient += item.second.destination == clientPublic ? 1 : 0;
        }
        QCOMPARE(toClient, rounds);
    }

    void pingBudgetPerTargetAddressBoundsReflection() {
        // Q5: a stranger sends many queries, each with a fresh client ID, all naming one victim.
        // Whatever the ports, the victim's IP gets no more than the budget per window.
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        options.punchTtls = {}; // full-TTL pings only: priming pings are not charged
        options.maxPingsPerTarget = 10;
        options.maxConnectingPeersPerTarget = 0; // this test is about the ping budget alone
        options.pingWindowMs = 3600 * 1000;
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        QSignalSpy suppressed(&gatekeeper, &DomainGatekeeper::datagramSuppressed);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("ping budget for 198.18.0.99")));
        for (quint16 port = 1; port <= 20; ++port) {
            introduce(net, QUuid::createUuid(), sock("198.18.0.99", port), sock("198.18.0.99", quint16(port + 1000)));
        }
        const auto pings = net.sentOfType(PacketType::ICEPing);
        QCOMPARE(pings.size(), 10);
        QCOMPARE(gatekeeper.counters().datagramsSuppressed, quint64(30));
        QCOMPARE(suppressed.size(), 30);
        // Another target still has its own budget.
        net.transport.clearSent();
        introduce(net, clientID, clientPublic, clientLocal);
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 2);
    }

    void repliesToPingsAreNotChargedToTheBudget() {
        // Clients behind one NAT share its public IP: their own handshakes (one reply per ping that
        // arrived from them) must not use up that IP's budget for the clients after them.
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        options.punchTtls = {}; // full-TTL pings only: priming pings are not charged
        options.maxPingsPerTarget = 2;
        options.pingWindowMs = 3600 * 1000;
        options.punchTiming = handDriven();
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        introduce(net, clientID, clientPublic, clientLocal); // one ping each to public and local
        for (int i = 0; i < 5; ++i) {
            net.inject(PacketType::ICEPing, IcePing { clientID, PingType::Public }.toPayload(), clientPublic);
        }
        QCOMPARE(net.sentOfType(PacketType::ICEPingReply).size(), 5);
        QCOMPARE(gatekeeper.counters().datagramsSuppressed, quint64(0));
        // The budget still bounds pings: one more to the same IP passes, the next is suppressed.
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("ping budget for 192.168.1.10")));
        gatekeeper.pingPunchForConnectingPeer(clientID);
        gatekeeper.pingPunchForConnectingPeer(clientID);
        int toPublic = 0;
        for (const auto &item : net.sentOfType(PacketType::ICEPing)) {
            toPublic += item.second.destination.getAddress() == clientPublic.getAddress() ? 1 : 0;
        }
        QCOMPARE(toPublic, 2);
    }

    void primingPingsToPublicSocketsAreNotCharged() {
        // TTL-2 pings to a public socket die at the first router past our NAT: the budget counts
        // only pings that can arrive. Pings to a "local" socket can reach our own LAN and are
        // always charged, so they stop once that address's budget is spent.
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        options.maxPingsPerTarget = 1;
        options.maxConnectingPeersPerTarget = 0;
        options.punchTtls = { 2, 2 };
        options.pingWindowMs = 3600 * 1000;
        options.punchTiming = handDriven();
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("ping budget for 192.168.1.10")));
        introduce(net, clientID, clientPublic, clientLocal); // round 0, TTL 2: local (charged) + public
        gatekeeper.pingPunchForConnectingPeer(clientID);     // round 1, TTL 2: public only
        gatekeeper.pingPunchForConnectingPeer(clientID);     // round 2, full TTL: public, charged
        const auto pings = net.sentOfType(PacketType::ICEPing);
        QCOMPARE(pings.size(), 4);
        QCOMPARE(pings[0].second.destination, clientLocal);
        for (int i = 1; i < 4; ++i) {
            QCOMPARE(pings[i].second.destination, clientPublic);
        }
        QCOMPARE(pings[3].second.ttl, 0);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("ping budget for 203.0.113.5")));
        gatekeeper.pingPunchForConnectingPeer(clientID); // round 3: both budgets spent
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 4);
        // A priming TTL large enough to reach the target is charged like any ping.
        FakeNetwork net2;
        options.punchTtls = { 3 };
        DomainGatekeeper far(domainID, &net2.sender, &net2.receiver, options, net2.clock);
        introduce(net2, clientID, clientPublic, clientPublic);
        far.pingPunchForConnectingPeer(clientID);
        QCOMPARE(net2.sentOfType(PacketType::ICEPing).size(), 1);
    }

    void pingBudgetRefillsAfterTheWindow() {
        FakeNetwork net;
        DomainGatekeeper::Options options = defaults();
        options.punchTtls = {}; // full-TTL pings only: priming pings are not charged
        options.maxPingsPerTarget = 2;
        options.pingWindowMs = 200;
        options.punchTiming = handDriven();
        DomainGatekeeper gatekeeper(domainID, &net.sender, &net.receiver, options, net.clock);
        introduce(net, clientID, clientPublic, clientLocal);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("ping budget")));
        gatekeeper.pingPunchForConnectingPeer(clientID); // local and public share nothing: both pass
        gatekeeper.pingPunchForConnectingPeer(clientID);
        gatekeeper.pingPunchForConnectingPeer(clientID);
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 4); // 2 per address
        net.clock.advance(options.pingWindowMs - 1);             // the window still runs
        gatekeeper.pingPunchForConnectingPeer(clientID);
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 4);
        net.clock.advance(1); // a new window: both budgets refill
        gatekeeper.pingPunchForConnectingPeer(clientID);
        QCOMPARE(net.sentOfType(PacketType::ICEPing).size(), 6);
    }
};

QTEST_GUILESS_MAIN(tst_DomainGatekeeper)
#include "tst_domaingatekeeper.moc"

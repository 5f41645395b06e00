// IceHeartbeater and IceHeartbeatPacket: the bytes of a heartbeat, the signature cache, and the
// verdicts upstream draws from ACK, Denied and silence (docs/protocol.md 3.1, 3.2, 4.1; quirk Q9).
#include "DomainTestUtil.h"

#include <CryptoBackend.h>
#include <IceHeartbeater.h>

class tst_IceHeartbeater : public QObject {
    Q_OBJECT

    const QUuid domainID = samples::domainID();
    const SockAddr iceServer = samples::iceServer();
    const SockAddr publicSocket = samples::domainPublic();
    const SockAddr localSocket = samples::domainLocal();
    RsaPrivateKey key;
    RsaPrivateKey otherKey;

    // A heartbeater that has sent its first heartbeat. The timer interval is huge: ticks are
    // driven by calling sendHeartbeatToIceServer() so counts are exact.
    void setUp(FakeNetwork &net, IceHeartbeater &hb) {
        hb.setPrivateKey(key);
        hb.setSockets(publicSocket, localSocket);
        hb.setIceServer(iceServer);
        hb.start(3600 * 1000);
        QCOMPARE(net.sentOfType(PacketType::ICEServerHeartbeat).size(), 1);
    }

private Q_SLOTS:
    void initTestCase() {
        key = RsaPrivateKey::generate(2048);
        otherKey = RsaPrivateKey::generate(2048);
        QVERIFY(!key.isNull() && !otherKey.isNull());
    }

    void heartbeatIsSignedPlaintextPlusVerifyingSignature() {
        FakeNetwork net;
        IceHeartbeater hb(domainID, &net.sender, &net.receiver);
        setUp(net, hb);

        const auto sent = net.sentOfType(PacketType::ICEServerHeartbeat);
        const NLDatagram &packet = sent.first().first;
        QCOMPARE(sent.first().second.destination, iceServer);
        QCOMPARE(packet.version, PacketVersion(18));
        QCOMPARE(packet.totalHeaderSize(), 6);
        // 30 signed bytes, then a QByteArray of 256 bytes: 296 bytes in all (docs/protocol.md 2.5).
        QCOMPARE(sent.first().second.datagram.size(), 296);
        const QByteArray plaintext = IceServerHeartbeat::signedPlaintext(domainID, publicSocket, localSocket);
        QCOMPARE(plaintext.size(), 30);
        QVERIFY(packet.payload.startsWith(plaintext));
        QCOMPARE(packet.payload.mid(30, 4), QByteArray::fromHex("00000100"));

        const Decoded<IceServerHeartbeat> decoded = IceServerHeartbeat::fromPayload(packet.payload);
        QVERIFY(decoded.ok());
        QCOMPARE(decoded.value.domainID, domainID);
        QCOMPARE(decoded.value.plaintext, plaintext);
        QCOMPARE(decoded.value.signature.size(), 256);
        QVERIFY(decoded.value.signature != QByteArray(256, '\0'));
        for (CryptoBackend *backend : CryptoBackend::all()) {
            QVERIFY2(backend->verify(key.publicKey(), plaintext, decoded.value.signature), qPrintable(backend->name()));
            QVERIFY(!backend->verify(otherKey.publicKey(), plaintext, decoded.value.signature));
        }
    }

    void signsOnlyWhenSomethingChanges() {
        FakeNetwork net;
        IceHeartbeater hb(domainID, &net.sender, &net.receiver);
        setUp(net, hb);
        hb.sendHeartbeatToIceServer();
        hb.sendHeartbeatToIceServer();
        auto sent = net.sentOfType(PacketType::ICEServerHeartbeat);
        QCOMPARE(sent.size(), 3);
        QCOMPARE(hb.signCount(), 1);
        QCOMPARE(sent[1].first.payload, sent[0].first.payload);
        QCOMPARE(sent[2].first.payload, sent[0].first.payload);

        hb.setSockets(publicSocket, localSocket); // same values: nothing to do
        QCOMPARE(hb.signCount(), 1);
        QCOMPARE(net.sentOfType(PacketType::ICEServerHeartbeat).size(), 3);

        const SockAddr newPublic = sock("198.51.100.7", 50000);
        hb.setSockets(newPublic, localSocket); // STUN moved us: re-sign and send at once
        sent = net.sentOfType(PacketType::ICEServerHeartbeat);
        QCOMPARE(sent.size(), 4);
        QCOMPARE(hb.signCount(), 2);
        auto decoded = IceServerHeartbeat::fromPayload(sent.last().first.payload);
        QVERIFY(decoded.ok());
        QCOMPARE(decoded.value.publicSocket, newPublic);
        QVERIFY(
            CryptoBackend::defaultBackend()->verify(key.publicKey(), decoded.value.plaintext, decoded.value.signature));

        hb.setPrivateKey(otherKey); // a new keypair: re-sign and send at once
        sent = net.sentOfType(PacketType::ICEServerHeartbeat);
        QCOMPARE(sent.size(), 5);
        QCOMPARE(hb.signCount(), 3);
        decoded = IceServerHeartbeat::fromPayload(sent.last().first.payload);
        QVERIFY(CryptoBackend::defaultBackend()->verify(otherKey.publicKey(), decoded.value.plaintext,
                                                        decoded.value.signature));
        QVERIFY(!CryptoBackend::defaultBackend()->verify(key.publicKey(), decoded.value.plaintext,
                                                         decoded.value.signature));

        hb.sendHeartbeatToIceServer();
        QCOMPARE(hb.signCount(), 3);
    }

    void noKeyIsAnErrorNotAZeroSignature() {
        FakeNetwork net;
        IceHeartbeater hb(domainID, &net.sender, &net.receiver);
        QSignalSpy errors(&hb, &IceHeartbeater::errorOccurred);
        QSignalSpy keyWanted(&hb, &IceHeartbeater::keypairRegenerationNeeded);
        hb.setSockets(publicSocket, localSocket);
        hb.setIceServer(iceServer);
        hb.start(3600 * 1000);
        QCOMPARE(net.transport.sent().size(), 0);
        QCOMPARE(errors.size(), 1);
        QCOMPARE(hb.error(), IceHeartbeater::Error::NoKeypair);
        QCOMPARE(keyWanted.size(), 1);

        IceHeartbeatPacket packet;
        QString why;
        QVERIFY(packet.payload(&why).isEmpty());
        QVERIFY(!why.isEmpty());
        QCOMPARE(packet.signCount(), 0);
    }

    void ackRegistersOnlyFromTheIceServer() {
        FakeNetwork net;
        IceHeartbeater hb(domainID, &net.sender, &net.receiver);
        QSignalSpy registered(&hb, &IceHeartbeater::registered);
        setUp(net, hb);
        hb.sendHeartbeatToIceServer();
        QCOMPARE(hb.unansweredHeartbeats(), 2);

        net.inject(PacketType::ICEServerHeartbeatACK, {}, sock("203.0.113.66", 7337));
        QCOMPARE(registered.size(), 0);
        QCOMPARE(hb.counters().repliesFromStrangers, quint64(1));
        QCOMPARE(hb.unansweredHeartbeats(), 2);

        net.inject(PacketType::ICEServerHeartbeatACK, {}, iceServer);
        QCOMPARE(registered.size(), 1);
        QCOMPARE(registered.first().first().value<SockAddr>(), iceServer);
        QVERIFY(hb.isRegistered());
        QCOMPARE(hb.unansweredHeartbeats(), 0);
        net.inject(PacketType::ICEServerHeartbeatACK, {}, iceServer);
        QCOMPARE(registered.size(), 1); // only the first ACK is news
    }

    void fourthDenialAsksForANewKeypair() {
        FakeNetwork net;
        IceHeartbeater hb(domainID, &net.sender, &net.receiver);
        QSignalSpy denied(&hb, &IceHeartbeater::denied);
        QSignalSpy keyWanted(&hb, &IceHeartbeater::keypairRegenerationNeeded);
        setUp(net, hb);
        for (int i = 1; i <= 3; ++i) {
            net.inject(PacketType::ICEServerHeartbeatDenied, {}, iceServer);
            QCOMPARE(hb.consecutiveDenials(), i);
        }
        QCOMPARE(keyWanted.size(), 0);
        net.inject(PacketType::ICEServerHeartbeatDenied, {}, sock("203.0.113.66", 7337)); // spoofed: ignored
        QCOMPARE(keyWanted.size(), 0);
        net.inject(PacketType::ICEServerHeartbeatDenied, {}, iceServer);
        QCOMPARE(keyWanted.size(), 1);
        QCOMPARE(denied.size(), 4);
        QCOMPARE(hb.consecutiveDenials(), 0); // counting starts again, as upstream
        // A Denied is a reply: it never counts towards failover.
        QCOMPARE(hb.unansweredHeartbeats(), 0);
    }

    void seventhUnansweredHeartbeatFailsOver() {
        FakeNetwork net;
        IceHeartbeater hb(domainID, &net.sender, &net.receiver);
        QSignalSpy unresponsive(&hb, &IceHeartbeater::iceServerUnresponsive);
        setUp(net, hb); // heartbeat 1
        for (int i = 2; i <= 6; ++i) {
            hb.sendHeartbeatToIceServer();
        }
        QCOMPARE(net.sentOfType(PacketType::ICEServerHeartbeat).size(), 6);
        QCOMPARE(unresponsive.size(), 0);
        hb.sendHeartbeatToIceServer(); // the 7th: upstream's "more than 6 with no reply"
        QCOMPARE(unresponsive.size(), 1);
        QCOMPARE(unresponsive.first().first().value<SockAddr>(), iceServer);
        QCOMPARE(net.sentOfType(PacketType::ICEServerHeartbeat).size(), 6);

        // Whoever picks the next server hands it over; it gets a heartbeat at once.
        const SockAddr next = sock("192.0.2.2", 7337);
        hb.setIceServer(next);
        const auto sent = net.sentOfType(PacketType::ICEServerHeartbeat);
        QCOMPARE(sent.size(), 7);
        QCOMPARE(sent.last().second.destination, next);
        QCOMPARE(hb.unansweredHeartbeats(), 1);
    }

    void repliesResetTheSilenceCount() {
        FakeNetwork net;
        IceHeartbeater hb(domainID, &net.sender, &net.receiver);
        QSignalSpy unresponsive(&hb, &IceHeartbeater::iceServerUnresponsive);
        setUp(net, hb);
        for (int round = 0; round < 3; ++round) {
            for (int i = 0; i < 5; ++i) {
                hb.sendHeartbeatToIceServer();
            }
            net.inject(round % 2 ? PacketType::ICEServerHeartbeatDenied : PacketType::ICEServerHeartbeatACK, {},
                       iceServer);
        }
        QCOMPARE(unresponsive.size(), 0);
    }

    // Until STUN answered or gave up, a heartbeat with no public socket is held, not sent: an
    // ice-server would otherwise announce the domain with only its LAN address. Held ticks are
    // not silence. What STUN ends with goes out at once: the socket it found, or none.
    void heldUntilStunAnswersOrFails_data() {
        QTest::addColumn<bool>("stunAnswers");
        QTest::newRow("STUN answers") << true;
        QTest::newRow("STUN fails") << false;
    }
    void heldUntilStunAnswersOrFails() {
        QFETCH(bool, stunAnswers);
        FakeNetwork net;
        IceHeartbeater hb(domainID, &net.sender, &net.receiver);
        QSignalSpy unresponsive(&hb, &IceHeartbeater::iceServerUnresponsive);
        hb.setPrivateKey(key);
        hb.setAwaitingPublicSocket(true);
        hb.setSockets(SockAddr(), localSocket);
        hb.setIceServer(iceServer);
        hb.start(3600 * 1000);
        for (int i = 0; i < 10; ++i) {
            hb.sendHeartbeatToIceServer();
        }
        QCOMPARE(net.sentOfType(PacketType::ICEServerHeartbeat).size(), 0);
        QCOMPARE(hb.unansweredHeartbeats(), 0);
        QCOMPARE(unresponsive.size(), 0);
        QCOMPARE(hb.counters().heldForPublicSocket, quint64(11));

        // What the domain server does when STUN ends: new sockets first, then the wait is over.
        const SockAddr learned = stunAnswers ? publicSocket : SockAddr(QHostAddress(), localSocket.getPort());
        hb.setSockets(learned, localSocket);
        hb.setAwaitingPublicSocket(false);
        const auto sent = net.sentOfType(PacketType::ICEServerHeartbeat);
        QCOMPARE(sent.size(), 1); // one heartbeat, not one per call
        QCOMPARE(sent.first().second.destination, iceServer);
        const Decoded<IceServerHeartbeat> decoded = IceServerHeartbeat::fromPayload(sent.first().first.payload);
        QVERIFY(decoded.ok());
        QCOMPARE(decoded.value.publicSocket, learned);
        QCOMPARE(hb.unansweredHeartbeats(), 1);
    }

    void knownPublicSocketIsNotHeld() {
        // A later STUN series (a new ice-server as STUN server) does not hold a known socket back,
        // and without a wait a null socket goes out as upstream sends it.
        FakeNetwork net;
        IceHeartbeater hb(domainID, &net.sender, &net.receiver);
        setUp(net, hb);
        hb.setAwaitingPublicSocket(true);
        hb.sendHeartbeatToIceServer();
        QCOMPARE(net.sentOfType(PacketType::ICEServerHeartbeat).size(), 2);

        hb.setAwaitingPublicSocket(false);
        hb.setSockets(SockAddr(), localSocket);
        const auto sent = net.sentOfType(PacketType::ICEServerHeartbeat);
        QCOMPARE(sent.size(), 3);
        QCOMPARE(IceServerHeartbeat::fromPayload(sent.last().first.payload).value.publicSocket, SockAddr());
    }

    void timerDrivesHeartbeats() {
        FakeNetwork net;
        IceHeartbeater hb(domainID, &net.sender, &net.receiver);
        hb.setPrivateKey(key);
        hb.setIceServer(iceServer);
        hb.start(20);
        QTRY_VERIFY_WITH_TIMEOUT(net.sentOfType(PacketType::ICEServerHeartbeat).size() >= 3, 2000);
        hb.stop();
    }
};

QTEST_GUILESS_MAIN(tst_IceHeartbeater)
#include "tst_iceheartbeater.moc"

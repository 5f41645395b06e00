// IceServer over real loopback UDP: registration, denial, queries byte for byte (docs/protocol.md 2.5,
// 3.4), expiry, the replay rule (Q3), symmetric NAT, rate limits, version checks, IPv6, STUN.
#include "IceTestSupport.h"

#include <DomainKeyStore.h>
#include <IceServer.h>
#include <KeyDirectory.h>
#include <SocketTransport.h>
#include <StunMessage.h>

#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using namespace icetest;

namespace {
const QUuid DomainID(QStringLiteral("6ba7b810-9dad-11d1-80b4-00c04fd430c8"));
const QUuid ClientID(QStringLiteral("11223344-5566-7788-99aa-bbccddeeff00"));
const SockAddr DomainPublic(QHostAddress(QStringLiteral("198.51.100.7")), 40102);
const SockAddr DomainLocal(QHostAddress(QStringLiteral("10.0.0.2")), 40102);
const SockAddr ClientPublic(QHostAddress(QStringLiteral("203.0.113.5")), 40102);
const SockAddr ClientLocal(QHostAddress(QStringLiteral("192.168.1.10")), 40102);

// The packets of docs/protocol.md section 2.5, as hex.
const QByteArray AckHex = "010000003f11";
const QByteArray DeniedHex = "010000003c11";
const QByteArray DomainInfoHex = "010000001611"
                                 "6ba7b8109dad11d180b400c04fd430c8"
                                 "00c63364079ca6"
                                 "000a0000029ca6";
const QByteArray ClientRecordHex = "112233445566778899aabbccddeeff00"
                                   "00cb0071059ca6"
                                   "00c0a8010a9ca6";

// One ice-server on loopback with a key directory, optionally IPv6 too.
struct Server {
    explicit Server(IceServerSettings settings = {}, bool ipv6 = false) {
        transport->bind(QHostAddress::LocalHost, 0);
        if (ipv6) {
            haveIpv6 = transport->bind(QHostAddress::LocalHostIPv6, 0);
        }
        directory.reset(new KeyDirectory(keysDir.path(), 0));
        directory->start();
        keys.reset(new DomainKeyStore(directory.data(), nullptr, KeyFetchSettings()));
        server.reset(new IceServer(transport.get(), keys.data(), settings));
        server->start();
    }
    SockAddr address() const { return SockAddr(QHostAddress::LocalHost, transport->localPort()); }
    SockAddr address6() const { return SockAddr(QHostAddress::LocalHostIPv6, transport->localPort()); }
    QString keyPath(const QUuid &id) const { return keysDir.filePath(id.toString(QUuid::WithoutBraces) + ".pem"); }
    bool trust(const QUuid &id, const RsaPrivateKey &key) {
        if (!writeFile(keyPath(id), key.publicKey().toPem())) {
            return false;
        }
        directory->rescan();
        return directory->find(id) != nullptr;
    }
    // Processing is in order: once a STUN answer comes back, everything sent before it was handled.
    bool barrier(UdpEndpoint &endpoint) {
        const int before = endpoint.received.size();
        endpoint.send(StunMessage::bindingRequest().encode(), address());
        if (!QTest::qWaitFor([&] { return endpoint.received.size() > before; }, 5000)) {
            return false;
        }
        endpoint.senders.removeLast();
        return StunMessage::looksLikeStun(endpoint.received.takeLast());
    }
    quint64 drops(IceServerStats::Drop reason) const { return server->stats().drops[reason]; }

    QTemporaryDir keysDir;
    // What the ice-server binary uses: the native transport on Linux, QUdpSocket elsewhere.
    const std::unique_ptr<SocketTransport> transport = makeSocketTransport();
    bool haveIpv6 = false;
    QScopedPointer<KeyDirectory> directory;
    QScopedPointer<DomainKeyStore> keys;
    QScopedPointer<IceServer> server;
};
} // namespace

class tst_IceServer : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        testKey(0);
        testKey(1);
    }

    void registerGetsAck() {
        Server s;
        QVERIFY(s.trust(DomainID, testKey(0)));
        UdpEndpoint domain;
        domain.send(signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0)), s.address());
        QTRY_COMPARE(domain.received.size(), 1);
        QCOMPARE(domain.hex(0), AckHex);
        QCOMPARE(s.server->peers().size(), 1);
    }

    void deniedUntilKeyKnownThenAck() {
        Server s;
        UdpEndpoint domain;
        const QByteArray heartbeat = signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0));
        domain.send(heartbeat, s.address());
        QTRY_COMPARE(domain.received.size(), 1);
        QCOMPARE(domain.hex(0), DeniedHex);
        QCOMPARE(s.server->peers().size(), 0);

        // The operator drops the key file in; the watcher picks it up without a restart.
        QVERIFY(writeFile(s.keyPath(DomainID), testKey(0).publicKey().toPem()));
        QTRY_VERIFY(s.directory->find(DomainID));
        domain.send(heartbeat, s.address());
        QTRY_COMPARE(domain.received.size(), 2);
        QCOMPARE(domain.received[1].toHex(), QByteArray("020000003f11")); // second packet to it: seq 2
    }

    void wrongKeyDenied() {
        Server s;
        QVERIFY(s.trust(DomainID, testKey(1)));
        UdpEndpoint domain;
        domain.send(signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0)), s.address());
        QTRY_COMPARE(domain.received.size(), 1);
        QCOMPARE(domain.hex(0), DeniedHex);
        QCOMPARE(s.server->stats().deniedBadSignature, quint64(1));
    }

    void queryYieldsBothPeerInformationPackets() {
        Server s;
        QVERIFY(s.trust(DomainID, testKey(0)));
        UdpEndpoint domain, client;
        domain.send(signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0)), s.address());
        QTRY_COMPARE(domain.received.size(), 1);

        // Exactly the 52-byte ICEServerQuery of docs/protocol.md 2.5.
        const QByteArray query = QByteArray::fromHex("0100000017111122334455667788"
                                                     "99aabbccddeeff00"
                                                     "00cb0071059ca6"
                                                     "00c0a8010a9ca6"
                                                     "6ba7b8109dad11d180b400c04fd430c8");
        QCOMPARE(query.size(), 52);
        client.send(query, s.address());
        QTRY_COMPARE(client.received.size(), 1);
        QCOMPARE(client.hex(0), DomainInfoHex);
        QTRY_COMPARE(domain.received.size(), 2);
        QCOMPARE(domain.hex(1), QByteArray("020000001611") + ClientRecordHex);
        QCOMPARE(s.server->stats().queriesAnswered, quint64(1));
    }

    void unknownDomainQueryGetsNothing() {
        Server s;
        UdpEndpoint client;
        client.send(query(ClientID, ClientPublic, ClientLocal, DomainID), s.address());
        QVERIFY(s.barrier(client));
        QCOMPARE(client.received.size(), 0);
        QCOMPARE(s.drops(IceServerStats::UnknownDomain), quint64(1));
    }

    void silentDomainExpires() {
        IceServerSettings settings;
        settings.peerTimeoutMs = 200;
        settings.sweepIntervalMs = 50;
        Server s(settings);
        QVERIFY(s.trust(DomainID, testKey(0)));
        UdpEndpoint domain, client;
        QSignalSpy expired(s.server.data(), &IceServer::peersExpired);
        domain.send(signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0)), s.address());
        QTRY_COMPARE(s.server->peers().size(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(s.server->peers().size(), 0, 3000);
        QCOMPARE(expired.count(), 1);
        client.send(query(ClientID, ClientPublic, ClientLocal, DomainID), s.address());
        QVERIFY(s.barrier(client));
        QCOMPARE(client.received.size(), 0);
        // The key outlives the silence: the domain comes back with an ACK, not a Denied.
        domain.send(signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0), 2), s.address());
        QTRY_COMPARE(domain.received.size(), 2);
        QCOMPARE(domain.received[1].toHex(), QByteArray("020000003f11"));
    }

    void byteIdenticalHeartbeatSkipsRsa() {
        Server s;
        QVERIFY(s.trust(DomainID, testKey(0)));
        UdpEndpoint domain;
        const QByteArray heartbeat = signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0));
        for (int i = 0; i < 3; ++i) {
            domain.send(heartbeat, s.address());
        }
        QTRY_COMPARE(domain.received.size(), 3);
        QCOMPARE(s.server->stats().rsaVerifies, quint64(1));
        QCOMPARE(s.server->stats().verifyCacheHits, quint64(2));
        // A new key for the domain means a new verify, not a cache hit.
        QVERIFY(s.trust(DomainID, testKey(1)));
        domain.send(heartbeat, s.address());
        QTRY_COMPARE(domain.received.size(), 4);
        QCOMPARE(domain.received[3].mid(4).toHex(), QByteArray("3c11"));
    }

    // Q3: a captured heartbeat resent from elsewhere must not move where peer information goes.
    void replayFromAnotherAddressDoesNotMoveDomain_data() {
        QTest::addColumn<bool>("reportsOwnIp");
        QTest::addColumn<QString>("attackerIp");
        QTest::newRow("domain reports its IP, attacker on another IP") << true << "127.0.0.2";
        QTest::newRow("domain reports a public IP, attacker on the domain's host") << false << "127.0.0.1";
    }
    void replayFromAnotherAddressDoesNotMoveDomain() {
        QFETCH(bool, reportsOwnIp);
        QFETCH(QString, attackerIp);
        Server s;
        QVERIFY(s.trust(DomainID, testKey(0)));
        UdpEndpoint domain, client, attacker { QHostAddress(attackerIp) };
        QVERIFY(attacker.isBound());
        const SockAddr reported = reportsOwnIp ? domain.address() : DomainPublic;
        const QByteArray heartbeat = signedHeartbeat(DomainID, reported, DomainLocal, testKey(0));
        domain.send(heartbeat, s.address());
        QTRY_COMPARE(domain.received.size(), 1);

        attacker.send(heartbeat, s.address());
        attacker.send(heartbeat, s.address());
        QTRY_COMPARE(s.drops(IceServerStats::ReplayIgnored), quint64(2));
        client.send(query(ClientID, ClientPublic, ClientLocal, DomainID), s.address());
        QTRY_COMPARE(domain.received.size(), 2); // the client's record still reaches the domain
        QCOMPARE(domain.received[1].mid(6).toHex(), ClientRecordHex);
        QVERIFY(s.barrier(attacker));
        for (const QByteArray &packet : qAsConst(attacker.received)) {
            QCOMPARE(packet.mid(4, 1).toHex(), QByteArray("3f")); // ACKs only, never peer information
        }
        QCOMPARE(*s.server->peers().find(DomainID)->peer.getActiveSocket(), domain.address());
    }

    // A domain behind a symmetric NAT: heartbeats arrive from a port it did not report.
    void symmetricNatDomainWorks() {
        Server s;
        QVERIFY(s.trust(DomainID, testKey(0)));
        UdpEndpoint stunMapped, natPort, rebound, client;
        const QByteArray heartbeat = signedHeartbeat(DomainID, stunMapped.address(), DomainLocal, testKey(0));
        natPort.send(heartbeat, s.address());
        QTRY_COMPARE(natPort.received.size(), 1);
        QCOMPARE(natPort.hex(0), AckHex);

        client.send(query(ClientID, ClientPublic, ClientLocal, DomainID), s.address());
        QTRY_COMPARE(client.received.size(), 1);
        QTRY_COMPARE(natPort.received.size(), 2);
        QCOMPARE(natPort.received[1].mid(6).toHex(), ClientRecordHex);
        // The client learns what the domain reported; the observed port is only where we send.
        QCOMPARE(NetworkPeer::fromByteArray(client.received[0].mid(6)).value.getPublicSocket(), stunMapped.address());

        // The NAT picks a new port for the same domain (same IP as reported): it moves at once.
        rebound.send(heartbeat, s.address());
        QTRY_COMPARE(rebound.received.size(), 1);
        QCOMPARE(s.server->stats().moves, quint64(1));
        client.send(query(ClientID, ClientPublic, ClientLocal, DomainID, 2), s.address());
        QTRY_COMPARE(rebound.received.size(), 2);
        QCOMPARE(rebound.received[1].mid(6).toHex(), ClientRecordHex);
        QCOMPARE(stunMapped.received.size(), 0);
    }

    // A domain that heartbeats before its STUN answered reports a null public socket (ff 00 00);
    // the client is told where the heartbeats come from, and gets the real one once it is reported.
    void nullPublicSocketAnnouncedAsObserved() {
        Server s;
        QVERIFY(s.trust(DomainID, testKey(0)));
        UdpEndpoint domain, client;
        domain.send(signedHeartbeat(DomainID, SockAddr(), DomainLocal, testKey(0)), s.address());
        QTRY_COMPARE(domain.received.size(), 1);
        QCOMPARE(domain.hex(0), AckHex);

        client.send(query(ClientID, ClientPublic, ClientLocal, DomainID), s.address());
        QTRY_COMPARE(client.received.size(), 1);
        const Decoded<NetworkPeer> announced = NetworkPeer::fromByteArray(client.received[0].mid(6));
        QVERIFY(announced.ok());
        QCOMPARE(announced.value.getUUID(), DomainID);
        QCOMPARE(announced.value.getPublicSocket(), domain.address());
        QCOMPARE(announced.value.getLocalSocket(), DomainLocal);
        // The domain still gets the client's record, unchanged, at the same socket.
        QTRY_COMPARE(domain.received.size(), 2);
        QCOMPARE(domain.received[1].mid(6).toHex(), ClientRecordHex);

        // STUN answered: the domain's own report replaces the observed socket.
        domain.send(signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0), 2), s.address());
        QTRY_COMPARE(domain.received.size(), 3);
        client.send(query(ClientID, ClientPublic, ClientLocal, DomainID, 2), s.address());
        QTRY_COMPARE(client.received.size(), 2);
        QCOMPARE(client.received[1].mid(6).toHex(), DomainInfoHex.mid(12));
    }

    void rateLimitPerSource() {
        IceServerSettings settings;
        settings.rateLimit.packetsPerSecond = 1;
        settings.rateLimit.burst = 3;
        Server s(settings);
        UdpEndpoint flooder, other { QHostAddress(QStringLiteral("127.0.0.2")) };
        for (int i = 0; i < 10; ++i) {
            flooder.send(StunMessage::bindingRequest().encode(), s.address());
        }
        QTRY_VERIFY(s.drops(IceServerStats::RateLimited) >= 6);
        QVERIFY(flooder.received.size() <= 4);
        QTRY_VERIFY(flooder.received.size() >= 3);
        QCOMPARE(s.server->stats().rateLimitedSources, quint64(1));
        QVERIFY(s.barrier(other)); // another source is not affected
    }

    void wrongVersionDroppedAndCounted() {
        Server s;
        QVERIFY(s.trust(DomainID, testKey(0)));
        UdpEndpoint domain;
        QByteArray heartbeat = signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0));
        heartbeat[5] = char(17); // ICEServerHeartbeat is version 18
        domain.send(heartbeat, s.address());
        QVERIFY(s.barrier(domain));
        QCOMPARE(domain.received.size(), 0);
        QCOMPARE(s.drops(IceServerStats::VersionMismatch), quint64(1));
        QCOMPARE(s.server->peers().size(), 0);
    }

    void malformedAndUnknownTypesCounted() {
        Server s;
        UdpEndpoint sender;
        sender.send(QByteArray::fromHex("0100000026"), s.address());                         // truncated header
        sender.send(QByteArray::fromHex("010000002612") + QByteArray(10, 'x'), s.address()); // short heartbeat
        sender.send(QByteArray::fromHex("01000000fe11"), s.address());                       // unknown type
        QVERIFY(s.barrier(sender));
        QCOMPARE(sender.received.size(), 0);
        QCOMPARE(s.drops(IceServerStats::Malformed), quint64(2));
        QCOMPARE(s.drops(IceServerStats::UnknownType), quint64(1));
    }

    void ipv6HeartbeatAndQuery() {
        Server s(IceServerSettings(), true);
        if (!s.haveIpv6) {
            QSKIP("this host has no ::1 (IPv6 disabled); the IPv6 path cannot be exercised here");
        }
        QVERIFY(s.trust(DomainID, testKey(0)));
        UdpEndpoint domain { QHostAddress::LocalHostIPv6 }, client { QHostAddress::LocalHostIPv6 };
        QVERIFY(domain.isBound() && client.isBound());
        const SockAddr public6(QHostAddress(QStringLiteral("2001:db8::7")), 40102);
        domain.send(signedHeartbeat(DomainID, public6, DomainLocal, testKey(0)), s.address6());
        QTRY_COMPARE(domain.received.size(), 1);
        QCOMPARE(domain.hex(0), AckHex);

        client.send(query(ClientID, ClientPublic, ClientLocal, DomainID), s.address6());
        QTRY_COMPARE(client.received.size(), 1);
        // QHostAddress on the wire: 01, 16 address bytes, null scope id (ffffffff), then the port.
        QCOMPARE(client.hex(0), QByteArray("010000001611") + "6ba7b8109dad11d180b400c04fd430c8"
                                    + "0120010db8000000000000000000000007ffffffff9ca6" + "000a0000029ca6");
        QTRY_COMPARE(domain.received.size(), 2);
        QCOMPARE(domain.received[1].mid(6).toHex(), ClientRecordHex);
    }

    void stunBindingAnsweredWithObservedAddress() {
        Server s;
        UdpEndpoint client;
        const StunMessage request = StunMessage::bindingRequest();
        client.send(request.encode(), s.address());
        QTRY_COMPARE(client.received.size(), 1);
        const Decoded<IpEndpoint> mapped = StunMessage::parseBindingResponse(client.received[0], request.transactionId);
        QVERIFY2(mapped.ok(), qPrintable(wireErrorString(mapped.error)));
        QCOMPARE(mapped.value, client.address());
        QCOMPARE(s.server->stats().stunOut, quint64(1));
    }

    void removedKeyUnregistersDomain() {
        Server s;
        QVERIFY(s.trust(DomainID, testKey(0)));
        UdpEndpoint domain;
        domain.send(signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0)), s.address());
        QTRY_COMPARE(s.server->peers().size(), 1);
        QVERIFY(QFile::remove(s.keyPath(DomainID)));
        QTRY_COMPARE(s.server->peers().size(), 0);
    }

    void peerTableIsBounded() {
        IceServerSettings settings;
        settings.maxDomains = 1;
        Server s(settings);
        const QUuid second = QUuid::createUuid();
        QVERIFY(s.trust(DomainID, testKey(0)));
        QVERIFY(s.trust(second, testKey(0)));
        UdpEndpoint domain;
        domain.send(signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0)), s.address());
        domain.send(signedHeartbeat(second, DomainPublic, DomainLocal, testKey(0)), s.address());
        QVERIFY(s.barrier(domain));
        QCOMPARE(domain.received.size(), 1);
        QCOMPARE(s.server->peers().size(), 1);
        QCOMPARE(s.drops(IceServerStats::TableFull), quint64(1));
    }
};

QTEST_GUILESS_MAIN(tst_IceServer)
#include "tst_iceserver.moc"

// SockAddr, upstream's QObject shape around an IpEndpoint. Its hostname constructors take IP
// literals as they are and resolve a name to its first IPv4 address: at once when the caller asks to
// block (upstream's shouldBlockForLookup), otherwise in the background, ending in lookupCompleted()
// or lookupFailed(); until then, and when the lookup fails, the address is null and the port kept.
// Names used here resolve (or fail) without leaving the machine: "localhost" from /etc/hosts, and
// names the resolver rejects before asking any DNS server.
#include <IpEndpoint.h>
#include <NetworkPeer.h>
#include <SockAddr.h>

#include <QtTest/QtTest>

#include <unordered_set>

class tst_SockAddr : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void hostnameConstructor_data() {
        QTest::addColumn<QString>("hostname");
        QTest::addColumn<bool>("block");
        QTest::addColumn<QString>("expectedAddress"); // empty: a null address

        QTest::newRow("IPv4 literal") << QStringLiteral("203.0.113.5") << false << QStringLiteral("203.0.113.5");
        QTest::newRow("IPv6 literal") << QStringLiteral("2001:db8::1") << false << QStringLiteral("2001:db8::1");
        QTest::newRow("IPv4 literal, blocking")
            << QStringLiteral("203.0.113.5") << true << QStringLiteral("203.0.113.5");
        QTest::newRow("name, not blocking") << QStringLiteral("localhost") << false << QString();
        QTest::newRow("name, blocking") << QStringLiteral("localhost") << true << QStringLiteral("127.0.0.1");
        QTest::newRow("invalid name, blocking") << QStringLiteral("nonexistent..invalid") << true << QString();
        QTest::newRow("empty name, blocking") << QString() << true << QString();
    }

    void hostnameConstructor() {
        QFETCH(QString, hostname);
        QFETCH(bool, block);
        QFETCH(QString, expectedAddress);

        SockAddr typed(SocketType::UDP, hostname, 7337, block);
        SockAddr untyped(hostname, 7337, block); // the older upstream form (a lookup may write it)
        for (const SockAddr &addr : { typed, untyped }) {
            QCOMPARE(addr.getPort(), quint16(7337));
            QCOMPARE(addr.getType(), SocketType::UDP);
            if (expectedAddress.isEmpty()) {
                QVERIFY2(addr.isNull(), qPrintable(addr.toString()));
            } else {
                QCOMPARE(addr.getAddress(), QHostAddress(expectedAddress));
            }
        }
        QCOMPARE(typed, untyped);
        if (!block && expectedAddress.isEmpty()) {
            // The name resolves in the background; wait for it, so no lookup is left in flight
            // (Qt leaks a pending lookup's slot object at exit, which the sanitizer build reports).
            QSignalSpy typedDone(&typed, &SockAddr::lookupCompleted);
            QSignalSpy untypedDone(&untyped, &SockAddr::lookupCompleted);
            QTRY_VERIFY_WITH_TIMEOUT(typedDone.count() == 1 && untypedDone.count() == 1, 10000);
            QCOMPARE(typed.getAddress(), QHostAddress(QHostAddress::LocalHost));
            QCOMPARE(untyped.getAddress(), QHostAddress(QHostAddress::LocalHost));
        }
    }

    void socketTypeIsCarriedNotCompared() {
        const SockAddr udp(SocketType::UDP, QStringLiteral("192.0.2.1"), 40102);
        const SockAddr webRtc(SocketType::WebRTC, QStringLiteral("192.0.2.1"), 40102);
        QCOMPARE(webRtc.getType(), SocketType::WebRTC);
        QCOMPARE(udp, webRtc); // quirk Q1: upstream's socket type never decides equality
        QCOMPARE(qHash(udp, 0), qHash(webRtc, 0));
    }

    // Upstream callers connect by member pointer and wait; the lookup runs in the background.
    void asyncLookupCompletes() {
        SockAddr addr(SocketType::UDP, QStringLiteral("localhost"), 7337);
        QVERIFY(addr.isNull()); // not resolved yet
        int completed = 0;
        int failed = 0;
        connect(&addr, &SockAddr::lookupCompleted, this, [&] { ++completed; });
        connect(&addr, &SockAddr::lookupFailed, this, [&] { ++failed; });
        QTRY_COMPARE_WITH_TIMEOUT(completed, 1, 5000);
        QCOMPARE(failed, 0);
        QCOMPARE(addr.getAddress(), QHostAddress(QHostAddress::LocalHost));
        QCOMPARE(addr.getPort(), quint16(7337));
    }

    void asyncLookupFails_data() {
        QTest::addColumn<QString>("hostname");
        QTest::newRow("empty label") << QStringLiteral("nonexistent..invalid");
        QTest::newRow("empty name") << QString();
    }

    void asyncLookupFails() {
        QFETCH(QString, hostname);
        const SockAddr addr(hostname, 7337); // the older form starts the lookup too
        QSignalSpy completed(&addr, &SockAddr::lookupCompleted);
        QSignalSpy failed(&addr, &SockAddr::lookupFailed);
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
        QCOMPARE(completed.count(), 0);
        QVERIFY(addr.isNull());
        QCOMPARE(addr.getPort(), quint16(7337));
    }

    void ipLiteralStartsNoLookup() {
        const SockAddr addr(SocketType::UDP, QStringLiteral("127.0.0.1"), 7337);
        QSignalSpy completed(&addr, &SockAddr::lookupCompleted);
        QSignalSpy failed(&addr, &SockAddr::lookupFailed);
        QCoreApplication::processEvents();
        QCOMPARE(completed.count() + failed.count(), 0);
        QCOMPARE(addr.getAddress(), QHostAddress(QHostAddress::LocalHost));
    }

    // A copy takes the endpoint, nothing of the QObject: no parent, no connections, and not the
    // result of a lookup the original started.
    void copyIsAValue() {
        QObject parent;
        SockAddr original(SocketType::WebRTC, QHostAddress(QStringLiteral("192.0.2.1")), 40102);
        original.setParent(&parent);
        SockAddr copy(original);
        QCOMPARE(copy.parent(), nullptr);
        QCOMPARE(copy, original);
        QCOMPARE(copy.getType(), SocketType::WebRTC);
        copy.setPort(40103);
        QCOMPARE(original.getPort(), quint16(40102));
        SockAddr assigned;
        assigned = original;
        QCOMPARE(assigned, original);
        QCOMPARE(assigned.parent(), nullptr);
        original.setParent(nullptr);

        SockAddr pending(QStringLiteral("localhost"), 7337);
        const SockAddr copiedBeforeResult(pending);
        QSignalSpy completed(&pending, &SockAddr::lookupCompleted);
        QTRY_COMPARE_WITH_TIMEOUT(completed.count(), 1, 5000);
        QVERIFY(!pending.isNull());
        QVERIFY(copiedBeforeResult.isNull());
    }

    void metatypeRoundTrip() {
        const SockAddr addr(SocketType::UDP, QHostAddress(QStringLiteral("2001:db8::1")), 40102);
        const QVariant variant = QVariant::fromValue(addr);
        QVERIFY(variant.canConvert<SockAddr>());
        QCOMPARE(variant.value<SockAddr>(), addr);
        QCOMPARE(QByteArray(variant.typeName()), QByteArray("SockAddr"));
    }

    void agreesWithIpEndpoint_data() {
        QTest::addColumn<QString>("address");
        QTest::addColumn<quint16>("port");
        QTest::newRow("IPv4") << QStringLiteral("203.0.113.5") << quint16(40102);
        QTest::newRow("IPv6") << QStringLiteral("2001:db8::1") << quint16(7337);
        QTest::newRow("null") << QString() << quint16(0);
    }

    void agreesWithIpEndpoint() {
        QFETCH(QString, address);
        QFETCH(quint16, port);
        const IpEndpoint endpoint(QHostAddress(address), port);
        const SockAddr addr(endpoint); // implicit both ways
        const IpEndpoint &back = addr;
        QCOMPARE(back, endpoint);
        QVERIFY(addr == endpoint && endpoint == addr && !(addr != endpoint));
        QCOMPARE(qHash(addr, 0), qHash(endpoint, 0));
        QCOMPARE(qHash(addr, 7), qHash(endpoint, 7));
        QCOMPARE(std::hash<SockAddr>()(addr), std::hash<IpEndpoint>()(endpoint));
        QCOMPARE(addr.toString(), endpoint.toString());
        const SockAddr other(QHostAddress(address), quint16(port + 1));
        QVERIFY(addr != other && other != endpoint);
        const std::unordered_set<SockAddr> set { addr, addr, other };
        QCOMPARE(int(set.size()), 2);

        QByteArray bytes;
        {
            QDataStream out(&bytes, QIODevice::WriteOnly);
            out << addr;
        }
        QByteArray endpointBytes;
        {
            QDataStream out(&endpointBytes, QIODevice::WriteOnly);
            out << endpoint;
        }
        QCOMPARE(bytes, endpointBytes);
        QDataStream in(bytes);
        SockAddr read;
        in >> read;
        QCOMPARE(read, addr);
    }

    void hasPrivateAddress_data() {
        QTest::addColumn<QString>("address");
        QTest::addColumn<bool>("isPrivate");
        QTest::newRow("loopback") << QStringLiteral("127.0.0.1") << true;
        QTest::newRow("10/8") << QStringLiteral("10.1.2.3") << true;
        QTest::newRow("172.16/12") << QStringLiteral("172.31.255.1") << true;
        QTest::newRow("172.32 is public") << QStringLiteral("172.32.0.1") << false;
        QTest::newRow("192.168/16") << QStringLiteral("192.168.1.20") << true;
        QTest::newRow("documentation range") << QStringLiteral("203.0.113.5") << false;
        QTest::newRow("IPv6 loopback") << QStringLiteral("::1") << true;
        QTest::newRow("IPv6 unique local") << QStringLiteral("fd00::1") << true;
        QTest::newRow("IPv6 global") << QStringLiteral("2001:db8::1") << false;
    }

    void hasPrivateAddress() {
        QFETCH(QString, address);
        QFETCH(bool, isPrivate);
        QCOMPARE(SockAddr(QHostAddress(address), 1).hasPrivateAddress(), isPrivate);
    }

    // NetworkPeer stores endpoints; its upstream getters hand out SockAddrs that follow the setters.
    void networkPeerGettersFollowTheSetters() {
        const IpEndpoint reportedPublic(QHostAddress(QStringLiteral("203.0.113.5")), 40102);
        const IpEndpoint reportedLocal(QHostAddress(QStringLiteral("192.168.1.20")), 40102);
        const IpEndpoint observed(QHostAddress(QStringLiteral("198.51.100.7")), 5000);
        NetworkPeer peer(QUuid::createUuid(), reportedPublic, reportedLocal);
        const SockAddr &publicSocket = peer.getPublicSocket();
        QCOMPARE(publicSocket, reportedPublic);
        QCOMPARE(peer.getLocalSocket(), reportedLocal);
        QCOMPARE(peer.getActiveSocket(), nullptr);
        QCOMPARE(peer.activeEndpoint(), nullptr);

        QList<SockAddr> activated;
        connect(&peer, &NetworkPeer::socketActivated, this, [&](const SockAddr &socket) { activated.append(socket); });
        peer.activateMatchingOrNewSymmetricSocket(observed);
        QCOMPARE(activated, QList<SockAddr>({ SockAddr(observed) }));
        QCOMPARE(peer.getSymmetricSocket(), observed);
        QCOMPARE(*peer.getActiveSocket(), observed);
        QCOMPARE(*peer.activeEndpoint(), observed);

        peer.setPublicSocket(observed);
        QCOMPARE(publicSocket, observed); // the reference follows the setter
        const NetworkPeer copy(peer);
        peer.softReset();
        QVERIFY(publicSocket.isNull());
        QCOMPARE(copy.getPublicSocket(), observed);
        QCOMPARE(copy.publicEndpoint(), observed);
    }

    void pointerAccessorsWriteThrough() {
        SockAddr addr;
        *addr.getAddressPointer() = QHostAddress(QStringLiteral("198.51.100.7"));
        *addr.getPortPointer() = 40102;
        *addr.getSocketTypePointer() = SocketType::WebRTC;
        QCOMPARE(addr.endpoint(), IpEndpoint(QHostAddress(QStringLiteral("198.51.100.7")), 40102));
        QCOMPARE(addr.getType(), SocketType::WebRTC);
        SockAddr other(QHostAddress(QHostAddress::LocalHost), 1);
        addr.swap(other);
        QCOMPARE(addr.getPort(), quint16(1));
        QCOMPARE(other.getPort(), quint16(40102));
        addr.clear();
        QVERIFY(addr.isNull());
        QCOMPARE(addr.getPort(), quint16(0));
    }
};

QTEST_GUILESS_MAIN(tst_SockAddr)
#include "tst_sockaddr.moc"

// One suite for every SocketTransport: each case runs against the QUdpSocket transport (the
// reference) and, on Linux, the native recvmmsg/sendmmsg one, over real loopback sockets. What
// went on the wire is checked with a plain POSIX socket where the transports could agree on a
// mistake (TTL, sender addresses).
#include "RawUdpSocket.h"

#include <SocketTransport.h>
#ifdef Q_OS_LINUX
#include <NativeUdpTransport.h>
#endif
#include <QUdpSocketTransport.h>

#include <QtNetwork/QUdpSocket>
#include <QtTest/QtTest>

#include <memory>

Q_DECLARE_METATYPE(TransportKind)
#if QT_VERSION < QT_VERSION_CHECK(6, 0, 0)
Q_DECLARE_METATYPE(QHostAddress) // Qt 6 declares it itself
#endif

namespace {
const QHostAddress V4(QHostAddress::LocalHost);
const QHostAddress V6(QHostAddress::LocalHostIPv6);

QList<TransportKind> kinds() {
    QList<TransportKind> result { TransportKind::Qt };
    if (nativeTransportAvailable()) {
        result.append(TransportKind::Native);
    }
    return result;
}

// The suite runs twice: as is, and with every socket it binds sharing its port (SO_REUSEPORT, as
// ice-server --threads binds them), which must change nothing else (tst_transport_reuseport).
bool reusePortMode() {
    return qEnvironmentVariableIntValue("ICEBREAKER_TRANSPORT_REUSEPORT") != 0;
}

std::unique_ptr<SocketTransport> bound(TransportKind kind, const QHostAddress &address, quint16 port = 0) {
    std::unique_ptr<SocketTransport> transport = makeSocketTransport(kind);
    if (reusePortMode() && !transport->setReusePort(true)) {
        qWarning() << "SO_REUSEPORT is not available here";
        return nullptr;
    }
    if (!transport->bind(address, port)) {
        qWarning() << transport->errorString();
        return nullptr;
    }
    return transport;
}

// Received datagrams of one transport, in order.
struct Inbox {
    QList<QByteArray> data;
    QList<IpEndpoint> senders;
    explicit Inbox(UdpTransport *transport) {
        QObject::connect(transport, &UdpTransport::datagramReceived, transport,
                         [this](const QByteArray &datagram, const IpEndpoint &sender) {
                             data.append(datagram); // keeps a copy: the transport must not reuse its bytes
                             senders.append(sender);
                         });
    }
};

QByteArray numbered(int n, int size = 32) {
    QByteArray datagram = QByteArray::number(n).leftJustified(size, '.');
    return datagram;
}
} // namespace

class tst_Transport : public QObject {
    Q_OBJECT

private:
    bool _hasV6 = false;

    // Adds one row per transport kind, named "<kind>/<name>"; the caller appends the row's data.
    template <typename Fill> void addRows(const char *name, Fill fill) {
        for (TransportKind kind : kinds()) {
            fill(QTest::addRow("%s/%s", qPrintable(transportKindName(kind)), name) << kind);
        }
    }
    bool needsV6(const QHostAddress &address) const { return address.protocol() != QAbstractSocket::IPv4Protocol; }

private Q_SLOTS:
    void initTestCase() {
        QUdpSocket probe;
        _hasV6 = probe.bind(V6, 0);
        if (reusePortMode() && !SocketTransport::reusePortAvailable()) {
            QSKIP("no SO_REUSEPORT load balancing on this platform");
        }
        qInfo() << "sockets bound with SO_REUSEPORT:" << reusePortMode();
    }

    void factory() {
        bool ok = false;
        QCOMPARE(parseTransportKind(QStringLiteral("native"), &ok), TransportKind::Native);
        QVERIFY(ok);
        QCOMPARE(parseTransportKind(QStringLiteral("qt"), &ok), TransportKind::Qt);
        QVERIFY(ok);
        QCOMPARE(parseTransportKind(QStringLiteral("auto"), &ok), TransportKind::Auto);
        QVERIFY(ok);
        parseTransportKind(QStringLiteral("fast"), &ok);
        QVERIFY(!ok);
        QVERIFY(qobject_cast<QUdpSocketTransport *>(makeSocketTransport(TransportKind::Qt).get()));
#ifdef Q_OS_LINUX
        QVERIFY(qobject_cast<NativeUdpTransport *>(makeSocketTransport(TransportKind::Auto).get()));
        QVERIFY(qobject_cast<NativeUdpTransport *>(makeSocketTransport(TransportKind::Native).get()));
#endif
    }

    void bindReportsLocalSocket_data() {
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<QHostAddress>("address");
        QTest::addColumn<QHostAddress>("reported");
        addRows("127.0.0.1", [](QTestData &row) { row << V4 << V4; });
        addRows("::1", [](QTestData &row) { row << V6 << V6; });
        addRows("AnyIPv4", [](QTestData &row) {
            row << QHostAddress(QHostAddress::AnyIPv4) << QHostAddress(QHostAddress::AnyIPv4);
        });
        addRows("AnyIPv6", [](QTestData &row) {
            row << QHostAddress(QHostAddress::AnyIPv6) << QHostAddress(QHostAddress::AnyIPv6);
        });
        addRows("Any (dual stack)",
                [](QTestData &row) { row << QHostAddress(QHostAddress::Any) << QHostAddress(QHostAddress::Any); });
    }
    void bindReportsLocalSocket() {
        QFETCH(TransportKind, kind);
        QFETCH(QHostAddress, address);
        QFETCH(QHostAddress, reported);
        if (needsV6(address) && !_hasV6) {
            QSKIP("no IPv6 on this host");
        }
        const std::unique_ptr<SocketTransport> transport = bound(kind, address);
        QVERIFY(transport);
        QVERIFY(transport->isBound());
        QVERIFY(transport->localPort() != 0);
        QCOMPARE(transport->localSocket(), IpEndpoint(reported, transport->localPort()));
        QCOMPARE(transport->boundSockets(), QList<IpEndpoint> { transport->localSocket() });
    }

    // IPv4 and IPv6 "any" share one port (the second bind with port 0 takes the first's port).
    void bindBothFamiliesOnOnePort_data() {
        QTest::addColumn<TransportKind>("kind");
        addRows("v4+v6", [](QTestData &) {});
    }
    void bindBothFamiliesOnOnePort() {
        QFETCH(TransportKind, kind);
        if (!_hasV6) {
            QSKIP("no IPv6 on this host");
        }
        const std::unique_ptr<SocketTransport> server = bound(kind, QHostAddress(QHostAddress::AnyIPv4));
        QVERIFY(server);
        QVERIFY2(server->bind(QHostAddress(QHostAddress::AnyIPv6)), qPrintable(server->errorString()));
        QCOMPARE(server->boundSockets().size(), 2);
        QCOMPARE(server->boundSockets().at(1).getPort(), server->localPort());
        Inbox inbox(server.get());
        const std::unique_ptr<SocketTransport> v4 = bound(kind, V4);
        const std::unique_ptr<SocketTransport> v6 = bound(kind, V6);
        QVERIFY(v4 && v6);
        QCOMPARE(v4->writeDatagram("four", IpEndpoint(V4, server->localPort())), qint64(4));
        QCOMPARE(v6->writeDatagram("six", IpEndpoint(V6, server->localPort())), qint64(3));
        QTRY_COMPARE_WITH_TIMEOUT(inbox.data.size(), 2, 5000);
        // Answers go out of the socket of the destination's family.
        Inbox v4Inbox(v4.get()), v6Inbox(v6.get());
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(server->writeDatagram(inbox.data[i], inbox.senders[i]), qint64(inbox.data[i].size()));
        }
        QTRY_COMPARE_WITH_TIMEOUT(v4Inbox.data, QList<QByteArray> { "four" }, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(v6Inbox.data, QList<QByteArray> { "six" }, 5000);
    }

    void bindTakenPortFails_data() {
        QTest::addColumn<TransportKind>("kind");
        addRows("127.0.0.1", [](QTestData &) {});
    }
    void bindTakenPortFails() {
        // A port held by a socket that does not share it stays its own, whether or not the
        // second one asks to share.
        QFETCH(TransportKind, kind);
        const std::unique_ptr<SocketTransport> first = makeSocketTransport(kind);
        QVERIFY(first->bind(V4));
        const std::unique_ptr<SocketTransport> second = makeSocketTransport(kind);
        second->setReusePort(reusePortMode());
        QVERIFY(!second->bind(V4, first->localPort()));
        QVERIFY(!second->isBound());
        QVERIFY2(second->errorString().contains(QString::number(first->localPort())),
                 qPrintable(second->errorString()));
    }

    // Two transports sharing one port (SO_REUSEPORT): the kernel hands each sender to one of them,
    // and either can answer any sender from the shared address and port.
    void reusePortGroup_data() {
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<QHostAddress>("address");
        addRows("127.0.0.1", [](QTestData &row) { row << V4; });
        addRows("::1", [](QTestData &row) { row << V6; });
        addRows("Any (dual stack)", [](QTestData &row) { row << QHostAddress(QHostAddress::Any); });
    }
    void reusePortGroup() {
        QFETCH(TransportKind, kind);
        QFETCH(QHostAddress, address);
        if (!SocketTransport::reusePortAvailable()) {
            QSKIP("no SO_REUSEPORT load balancing on this platform");
        }
        if (needsV6(address) && !_hasV6) {
            QSKIP("no IPv6 on this host");
        }
        std::unique_ptr<SocketTransport> group[2] = { makeSocketTransport(kind), makeSocketTransport(kind) };
        QVERIFY(group[0]->setReusePort(true) && group[1]->setReusePort(true));
        QVERIFY2(group[0]->bind(address), qPrintable(group[0]->errorString()));
        const quint16 port = group[0]->localPort();
        QVERIFY2(group[1]->bind(address, port), qPrintable(group[1]->errorString()));
        QCOMPARE(group[1]->localPort(), port);
        // A socket that does not ask to share cannot join.
        const std::unique_ptr<SocketTransport> outsider = makeSocketTransport(kind);
        QVERIFY(!outsider->bind(address, port));

        const QHostAddress loopback = address.protocol() == QAbstractSocket::IPv6Protocol ? V6 : V4;
        Inbox inbox0(group[0].get()), inbox1(group[1].get());
        constexpr int Senders = 32;
        std::vector<std::unique_ptr<SocketTransport>> senders;
        std::vector<std::unique_ptr<Inbox>> replies;
        for (int i = 0; i < Senders; ++i) {
            senders.push_back(makeSocketTransport(kind));
            QVERIFY(senders.back()->bind(loopback));
            replies.push_back(std::make_unique<Inbox>(senders.back().get()));
            QCOMPARE(senders.back()->writeDatagram(numbered(i), IpEndpoint(loopback, port)), qint64(32));
        }
        QTRY_COMPARE_WITH_TIMEOUT(inbox0.data.size() + inbox1.data.size(), Senders, 5000);
        QVERIFY2(!inbox0.data.isEmpty() && !inbox1.data.isEmpty(), "every sender went to one socket");
        // Each answers what the other received: the reply still comes from the shared port.
        for (int i = 0; i < inbox0.data.size(); ++i) {
            QCOMPARE(group[1]->writeDatagram(inbox0.data[i], inbox0.senders[i]), qint64(32));
        }
        for (int i = 0; i < inbox1.data.size(); ++i) {
            QCOMPARE(group[0]->writeDatagram(inbox1.data[i], inbox1.senders[i]), qint64(32));
        }
        for (int i = 0; i < Senders; ++i) {
            QTRY_COMPARE_WITH_TIMEOUT(replies[size_t(i)]->data, QList<QByteArray> { numbered(i) }, 5000);
            QCOMPARE(replies[size_t(i)]->senders.first(), IpEndpoint(loopback, port));
        }
    }

    // Sender and receiver both on the transport under test; the receiver reports the sender's
    // address in its own family (IPv4-mapped senders on a dual-stack socket come as IPv4).
    void sendReceive_data() {
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<QHostAddress>("receiverBind");
        QTest::addColumn<QHostAddress>("senderBind");
        QTest::addColumn<QHostAddress>("destination");
        QTest::addColumn<QHostAddress>("reportedSender");
        addRows("v4 to v4", [](QTestData &row) { row << V4 << V4 << V4 << V4; });
        addRows("v6 to v6", [](QTestData &row) { row << V6 << V6 << V6 << V6; });
        addRows("v4 to dual stack (mapped sender)",
                [](QTestData &row) { row << QHostAddress(QHostAddress::Any) << V4 << V4 << V4; });
        addRows("v6 to dual stack", [](QTestData &row) { row << QHostAddress(QHostAddress::Any) << V6 << V6 << V6; });
        addRows("dual stack to v4", [](QTestData &row) { row << V4 << QHostAddress(QHostAddress::Any) << V4 << V4; });
        addRows("dual stack to v6", [](QTestData &row) { row << V6 << QHostAddress(QHostAddress::Any) << V6 << V6; });
        addRows("any v4 to v4", [](QTestData &row) { row << V4 << QHostAddress(QHostAddress::AnyIPv4) << V4 << V4; });
    }
    void sendReceive() {
        QFETCH(TransportKind, kind);
        QFETCH(QHostAddress, receiverBind);
        QFETCH(QHostAddress, senderBind);
        QFETCH(QHostAddress, destination);
        QFETCH(QHostAddress, reportedSender);
        if ((needsV6(receiverBind) || needsV6(senderBind)) && !_hasV6) {
            QSKIP("no IPv6 on this host");
        }
        const std::unique_ptr<SocketTransport> receiver = bound(kind, receiverBind);
        const std::unique_ptr<SocketTransport> sender = bound(kind, senderBind);
        QVERIFY(receiver && sender);
        Inbox inbox(receiver.get());
        QCOMPARE(sender->writeDatagram("hello", IpEndpoint(destination, receiver->localPort())), qint64(5));
        QTRY_COMPARE_WITH_TIMEOUT(inbox.data.size(), 1, 5000);
        QCOMPARE(inbox.data.first(), QByteArray("hello"));
        QCOMPARE(inbox.senders.first(), IpEndpoint(reportedSender, sender->localPort()));
        QCOMPARE(inbox.senders.first().getAddress().protocol(), reportedSender.protocol());
    }

    // The TTL / hop limit of one datagram, as a raw receiver sees it; both outside a read loop
    // and from inside one (where the native transport batches the answer).
    void ttlPerDatagram_data() {
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<QHostAddress>("senderBind");
        QTest::addColumn<bool>("v6");
        QTest::addColumn<int>("ttl");
        QTest::addColumn<int>("observed");
        addRows("v4 ttl 3", [](QTestData &row) { row << V4 << false << 3 << 3; });
        addRows("v4 default", [](QTestData &row) { row << V4 << false << 0 << 64; });
        addRows("v6 hop limit 4", [](QTestData &row) { row << V6 << true << 4 << 4; });
        addRows("v6 default", [](QTestData &row) { row << V6 << true << 0 << 64; });
        addRows("dual stack to v4 ttl 5",
                [](QTestData &row) { row << QHostAddress(QHostAddress::Any) << false << 5 << 5; });
        addRows("dual stack to v6 hop limit 6",
                [](QTestData &row) { row << QHostAddress(QHostAddress::Any) << true << 6 << 6; });
    }
    void ttlPerDatagram() {
        QFETCH(TransportKind, kind);
        QFETCH(QHostAddress, senderBind);
        QFETCH(bool, v6);
        QFETCH(int, ttl);
        QFETCH(int, observed);
        if ((v6 || needsV6(senderBind)) && !_hasV6) {
            QSKIP("no IPv6 on this host");
        }
        RawUdpSocket raw(v6);
        QVERIFY(raw.isValid());
        const std::unique_ptr<SocketTransport> transport = bound(kind, senderBind);
        QVERIFY(transport);
        const IpEndpoint to(v6 ? V6 : V4, raw.port());
        // Outside a read loop: sent at once.
        QCOMPARE(transport->writeDatagram("direct", to, ttl), qint64(6));
        QTRY_VERIFY_WITH_TIMEOUT(raw.hasDatagram(), 5000);
        const RawUdpSocket::Datagram direct = raw.take();
        QCOMPARE(direct.data, QByteArray("direct"));
        // From a slot answering a datagram: the native transport batches this one.
        QObject::connect(transport.get(), &UdpTransport::datagramReceived, transport.get(),
                         [&](const QByteArray &, const IpEndpoint &) { transport->writeDatagram("answer", to, ttl); });
        RawUdpSocket poke(v6);
        QVERIFY(poke.sendTo(transport->localPort(), "poke"));
        QTRY_VERIFY_WITH_TIMEOUT(raw.hasDatagram(), 5000);
        const RawUdpSocket::Datagram answer = raw.take();
        QCOMPARE(answer.data, QByteArray("answer"));
        if (kind == TransportKind::Qt && senderBind == QHostAddress(QHostAddress::Any) && !v6 && ttl > 0) {
            // QUdpSocket sets IPV6_HOPLIMIT on a dual-stack socket even for an IPv4 destination,
            // which Linux ignores for IPv4; the native transport sends IP_TTL there.
            QEXPECT_FAIL("", "QUdpSocket's hop limit does not apply to IPv4 from a dual-stack socket", Abort);
        }
        QCOMPARE(QList<int>({ direct.ttl, answer.ttl }), QList<int>({ observed, observed }));
    }

    void sizes_data() {
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<QHostAddress>("address");
        QTest::addColumn<int>("size");
        addRows("empty", [](QTestData &row) { row << V4 << 0; });
        addRows("1 byte", [](QTestData &row) { row << V4 << 1; });
        addRows("1472 bytes", [](QTestData &row) { row << V4 << 1472; });
        addRows("9000 bytes", [](QTestData &row) { row << V4 << 9000; });
        addRows("IPv4 largest (65507)", [](QTestData &row) { row << V4 << 65507; });
        addRows("IPv6 largest (65527)", [](QTestData &row) { row << V6 << 65527; });
    }
    void sizes() {
        QFETCH(TransportKind, kind);
        QFETCH(QHostAddress, address);
        QFETCH(int, size);
        if (needsV6(address) && !_hasV6) {
            QSKIP("no IPv6 on this host");
        }
        const std::unique_ptr<SocketTransport> receiver = bound(kind, address);
        const std::unique_ptr<SocketTransport> sender = bound(kind, address);
        QVERIFY(receiver && sender);
        Inbox inbox(receiver.get());
        QByteArray datagram(size, Qt::Uninitialized);
        for (int i = 0; i < size; ++i) {
            datagram[i] = char(i * 7 + 1);
        }
        // A small one after it proves the large one did not spill into the next read.
        QCOMPARE(sender->writeDatagram(datagram, IpEndpoint(address, receiver->localPort())), qint64(size));
        QCOMPARE(sender->writeDatagram("after", IpEndpoint(address, receiver->localPort())), qint64(5));
        QTRY_COMPARE_WITH_TIMEOUT(inbox.data.size(), 2, 5000);
        QCOMPARE(inbox.data.at(0).size(), size);
        QVERIFY(inbox.data.at(0) == datagram);
        QCOMPARE(inbox.data.at(1), QByteArray("after"));
    }

    // Many datagrams in one event-loop turn all arrive in order, more than one batch and more
    // than one read budget; the receiver echoes each from its slot (batched answers for the
    // native transport) and the echoes come back complete and in order too.
    void batchInOrder_data() {
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<int>("count");
        addRows("1", [](QTestData &row) { row << 1; });
        addRows("64", [](QTestData &row) { row << 64; });
        addRows("65", [](QTestData &row) { row << 65; });
        addRows("1000", [](QTestData &row) { row << 1000; });
    }
    void batchInOrder() {
        QFETCH(TransportKind, kind);
        QFETCH(int, count);
        const std::unique_ptr<SocketTransport> echo = bound(kind, V4);
        const std::unique_ptr<SocketTransport> client = bound(kind, V4);
        QVERIFY(echo && client);
        echo->setReceiveBufferSize(4 * 1024 * 1024);
        client->setReceiveBufferSize(4 * 1024 * 1024);
        Inbox inbox(echo.get());
        QObject::connect(
            echo.get(), &UdpTransport::datagramReceived, echo.get(),
            [&](const QByteArray &datagram, const IpEndpoint &from) { echo->writeDatagram(datagram, from); });
        Inbox echoes(client.get());
        QList<QByteArray> sent;
        for (int i = 0; i < count; ++i) {
            sent.append(numbered(i, 16 + i % 200));
            QCOMPARE(client->writeDatagram(sent.last(), echo->localSocket()), qint64(sent.last().size()));
        }
        QTRY_COMPARE_WITH_TIMEOUT(inbox.data.size(), count, 10000);
        QCOMPARE(inbox.data, sent);
        QTRY_COMPARE_WITH_TIMEOUT(echoes.data.size(), count, 10000);
        QCOMPARE(echoes.data, sent);
    }

    // A sender that rewrites one reused datagram in place for every answer (a server's ACK, stamped
    // with the next sequence number) and scribbles over it after each write: every answer leaves
    // as it was when written, whether the transport sent it at once or queued it in a batch. And
    // the transport keeps no reference to the caller's bytes, so rewriting them never detaches
    // (which would cost an allocation and a copy per answer).
    void reusedDatagram_data() {
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("size");
        addRows("1 of 32 bytes", [](QTestData &row) { row << 1 << 32; });
        addRows("65 of 32 bytes", [](QTestData &row) { row << 65 << 32; });
        addRows("300 of 32 bytes", [](QTestData &row) { row << 300 << 32; });
        addRows("130 of 9000 bytes", [](QTestData &row) { row << 130 << 9000; });
    }
    void reusedDatagram() {
        QFETCH(TransportKind, kind);
        QFETCH(int, count);
        QFETCH(int, size);
        const std::unique_ptr<SocketTransport> server = bound(kind, V4);
        const std::unique_ptr<SocketTransport> client = bound(kind, V4);
        QVERIFY(server && client);
        server->setReceiveBufferSize(4 * 1024 * 1024);
        client->setReceiveBufferSize(4 * 1024 * 1024);
        QByteArray answer(size, '-');
        const char *const storage = answer.constData();
        int answered = 0;
        int detached = 0;
        QObject::connect(server.get(), &UdpTransport::datagramReceived, server.get(),
                         [&](const QByteArray &, const IpEndpoint &from) {
                             const QByteArray stamp = numbered(answered++, 16);
                             std::memcpy(answer.data(), stamp.constData(), size_t(stamp.size()));
                             server->writeDatagram(answer, from);
                             answer.fill('x'); // after the write: must not reach the wire
                             detached += answer.constData() != storage ? 1 : 0;
                         });
        Inbox answers(client.get());
        for (int i = 0; i < count; ++i) {
            QCOMPARE(client->writeDatagram(numbered(i), server->localSocket()), qint64(32));
        }
        QTRY_COMPARE_WITH_TIMEOUT(answers.data.size(), count, 10000);
        for (int i = 0; i < count; ++i) {
            QByteArray expected(size, 'x');
            const QByteArray stamp = numbered(i, 16);
            std::memcpy(expected.data(), stamp.constData(), size_t(stamp.size()));
            if (i == 0) {
                expected.fill('-', size); // the first answer is written before any scribbling
                std::memcpy(expected.data(), stamp.constData(), size_t(stamp.size()));
            }
            QCOMPARE(answers.data.at(i), expected);
        }
        QCOMPARE(detached, 0);
    }

    void sendFails_data() {
        QTest::addColumn<TransportKind>("kind");
        QTest::addColumn<QHostAddress>("bindAddress");
        QTest::addColumn<IpEndpoint>("destination");
        QTest::addColumn<int>("size");
        addRows("v6 destination, v4 socket", [](QTestData &row) { row << V4 << IpEndpoint(V6, 9) << 4; });
        addRows("v4 destination, v6 socket", [](QTestData &row) { row << V6 << IpEndpoint(V4, 9) << 4; });
        addRows("port 0", [](QTestData &row) { row << V4 << IpEndpoint(V4, 0) << 4; });
        addRows("null address", [](QTestData &row) { row << V4 << IpEndpoint() << 4; });
        addRows("too large for IPv4", [](QTestData &row) { row << V4 << IpEndpoint(V4, 9) << 65508; });
        addRows("unbound", [](QTestData &row) { row << QHostAddress() << IpEndpoint(V4, 9) << 4; });
    }
    void sendFails() {
        QFETCH(TransportKind, kind);
        QFETCH(QHostAddress, bindAddress);
        QFETCH(IpEndpoint, destination);
        QFETCH(int, size);
        if (needsV6(bindAddress) && !bindAddress.isNull() && !_hasV6) {
            QSKIP("no IPv6 on this host");
        }
        const std::unique_ptr<SocketTransport> transport = makeSocketTransport(kind);
        if (!bindAddress.isNull()) {
            QVERIFY(transport->bind(bindAddress));
        }
        QCOMPARE(transport->writeDatagram(QByteArray(size, 'x'), destination), qint64(-1));
    }

    // close() stops receiving; binding again with port 0 gets a fresh port that works.
    void closeAndRebind_data() {
        QTest::addColumn<TransportKind>("kind");
        addRows("127.0.0.1", [](QTestData &) {});
    }
    void closeAndRebind() {
        QFETCH(TransportKind, kind);
        const std::unique_ptr<SocketTransport> transport = bound(kind, V4);
        const std::unique_ptr<SocketTransport> peer = bound(kind, V4);
        QVERIFY(transport && peer);
        Inbox inbox(transport.get());
        const quint16 oldPort = transport->localPort();
        transport->close();
        QVERIFY(!transport->isBound());
        QCOMPARE(transport->localPort(), quint16(0));
        QCOMPARE(transport->writeDatagram("x", peer->localSocket()), qint64(-1));
        QVERIFY(transport->bind(V4));
        QVERIFY(transport->localPort() != 0);
        // Whatever goes to the old port is not ours any more (a marker to it, then one to the new port).
        peer->writeDatagram("old", IpEndpoint(V4, oldPort));
        peer->writeDatagram("new", transport->localSocket());
        QTRY_COMPARE_WITH_TIMEOUT(inbox.data.size(), 1, 5000);
        if (transport->localPort() != oldPort) {
            QCOMPARE(inbox.data, QList<QByteArray> { "new" });
        }
    }

    // A receiver may close the transport from its slot while a batch is being delivered.
    void closeFromSlot_data() {
        QTest::addColumn<TransportKind>("kind");
        addRows("127.0.0.1", [](QTestData &) {});
    }
    void closeFromSlot() {
        QFETCH(TransportKind, kind);
        const std::unique_ptr<SocketTransport> transport = bound(kind, V4);
        const std::unique_ptr<SocketTransport> peer = bound(kind, V4);
        QVERIFY(transport && peer);
        int delivered = 0;
        QObject::connect(transport.get(), &UdpTransport::datagramReceived, transport.get(),
                         [&](const QByteArray &datagram, const IpEndpoint &from) {
                             ++delivered;
                             transport->writeDatagram(datagram, from); // queued in a batch, then dropped
                             transport->close();
                         });
        for (int i = 0; i < 10; ++i) {
            peer->writeDatagram(numbered(i), transport->localSocket());
        }
        QTRY_COMPARE_WITH_TIMEOUT(delivered, 1, 5000);
        QVERIFY(!transport->isBound());
        QCoreApplication::processEvents();
        QCOMPARE(delivered, 1);
    }
};

QTEST_GUILESS_MAIN(tst_Transport)
#include "tst_transport.moc"

// TurnClient against a real coturn on loopback: allocation with long-term and TURN REST API
// credentials, permissions, Send/Data indications, channels, data both ways (with a plain UDP peer
// and between two relayed clients), refreshes that keep short lifetimes alive, a stale nonce
// recovered, wrong credentials, a server that is not there, CreatePermission requests lost on the way
// (the allocation stays), the release, and a predecessor's allocation on the same 5-tuple ended.
#include "CoturnProcess.h"

#include <QUdpSocketTransport.h>
#include <TurnClient.h>

#include <QtCore/QSet>
#include <QtTest/QtTest>

// Qt 6 declares QHostAddress as a metatype (permissionCreated() carries one); Qt 5 does not.
#if QT_VERSION < QT_VERSION_CHECK(6, 0, 0)
Q_DECLARE_METATYPE(QHostAddress)
#endif

#include <memory>

namespace {

const QHostAddress kLoopback(QHostAddress::LocalHost);

// A real socket that also keeps what went out and what came in from the TURN server.
class RecordingTransport : public QUdpSocketTransport {
public:
    qint64 writeDatagram(const QByteArray &datagram, const IpEndpoint &destination, int ttl = 0) override {
        sent.append(datagram);
        ttls.append(ttl);
        if (losePermissionRequests > 0) {
            // Every transmission of the first losePermissionRequests CreatePermission requests is lost.
            const auto message = TurnMessage::decode(datagram);
            if (message.ok() && message.value.method == TurnMessage::CreatePermission
                && message.value.messageClass == TurnMessage::Request) {
                if (!lostPermissionRequests.contains(message.value.transactionId)
                    && lostPermissionRequests.size() < losePermissionRequests) {
                    lostPermissionRequests.insert(message.value.transactionId);
                }
                if (lostPermissionRequests.contains(message.value.transactionId)) {
                    return datagram.size();
                }
            }
        }
        return QUdpSocketTransport::writeDatagram(datagram, destination, ttl);
    }
    QList<QByteArray> sent;
    QList<int> ttls;
    int losePermissionRequests = 0;
    QSet<QByteArray> lostPermissionRequests; // by transaction ID
};

// One node: its socket, its TURN client, and the demultiplexing a node does before its own decoding.
struct Node {
    RecordingTransport transport;
    std::unique_ptr<TurnClient> turn;
    QList<QByteArray> fromServer;  // every datagram the server sent us
    QList<QByteArray> notConsumed; // what handleDatagram left to the node

    Node(const SockAddr &server, const TurnCredentials &credentials, const TurnClient::Timing &timing = {}) {
        transport.bind(kLoopback, 0);
        turn = std::make_unique<TurnClient>(&transport, server, credentials);
        turn->setTiming(timing);
        turn->setSoftware("icebreaker-test");
        QObject::connect(&transport, &UdpTransport::datagramReceived, turn.get(),
                         [this, server](const QByteArray &datagram, const SockAddr &sender) {
                             if (sender == server) {
                                 fromServer.append(datagram);
                             }
                             if (!turn->handleDatagram(datagram, sender)) {
                                 notConsumed.append(datagram);
                             }
                         });
    }

    int errorResponses(int code) const {
        int count = 0;
        for (const QByteArray &datagram : fromServer) {
            const auto message = TurnMessage::decode(datagram);
            count += message.ok() && message.value.errorCode == code ? 1 : 0;
        }
        return count;
    }
};

// A peer that knows nothing of TURN: a plain UDP socket.
struct PlainPeer {
    QUdpSocket socket;
    QList<QPair<QByteArray, SockAddr>> received;

    PlainPeer() {
        socket.bind(kLoopback, 0);
        QObject::connect(&socket, &QUdpSocket::readyRead, &socket, [this]() {
            while (socket.hasPendingDatagrams()) {
                QByteArray datagram(int(socket.pendingDatagramSize()), Qt::Uninitialized);
                QHostAddress from;
                quint16 port = 0;
                socket.readDatagram(datagram.data(), datagram.size(), &from, &port);
                received.append({ datagram, SockAddr(QHostAddress(from.toIPv4Address()), port) });
            }
        });
    }
    SockAddr address() const { return SockAddr(kLoopback, socket.localPort()); }
    void sendTo(const SockAddr &to, const QByteArray &datagram) {
        socket.writeDatagram(datagram, to.getAddress(), to.getPort());
    }
};

const TurnCredentials kGood { QStringLiteral("u"), QStringLiteral("p") };

// coturn caps an Allocate at --max-allocate-lifetime, but a Refresh without LIFETIME gets its
// default 600 s; asking for an hour gets the cap every time, so refreshes keep coming.
TurnClient::Timing askingAnHour() {
    TurnClient::Timing timing;
    timing.requestedLifetimeSec = 3600;
    return timing;
}
const QStringList kLongTerm { QStringLiteral("--lt-cred-mech"), QStringLiteral("--user"), QStringLiteral("u:p"),
                              QStringLiteral("--realm"), QStringLiteral("R") };

} // namespace

class tst_TurnClient : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();

    void allocates();
    void restApiCredentials();
    void restApiExpiredCredentials();
    void permissionAndIndications();
    void channelBothWays();
    void twoRelayedClients();
    void refreshKeepsShortAllocation();
    void refreshKeepsShortPermissionAndChannel();
    void staleNonceRecovered();
    void wrongPassword();
    void serverDown();
    void unansweredPermissionKeepsAllocation_data();
    void unansweredPermissionKeepsAllocation();
    void releaseSendsLifetimeZero();
    void mismatchAllocationEnded_data();
    void mismatchAllocationEnded();

private:
    std::unique_ptr<Node> allocatedNode(const TurnCredentials &credentials = kGood,
                                        const TurnClient::Timing &timing = {});

    std::unique_ptr<CoturnProcess> _coturn;
};

void tst_TurnClient::initTestCase() {
    qRegisterMetaType<SockAddr>();
    qRegisterMetaType<QHostAddress>();
    qRegisterMetaType<TurnClient::Error>();
    QVERIFY2(!CoturnProcess::executable().isEmpty(),
             "coturn's turnserver was not found at configure time (apt-get install coturn)");
}

void tst_TurnClient::cleanup() {
    if (QTest::currentTestFailed() && _coturn) {
        qInfo().noquote() << "==== coturn output ====\n" << QString::fromUtf8(_coturn->output());
    }
    _coturn.reset();
}

std::unique_ptr<Node> tst_TurnClient::allocatedNode(const TurnCredentials &credentials,
                                                    const TurnClient::Timing &timing) {
    auto node = std::make_unique<Node>(_coturn->address(), credentials, timing);
    QSignalSpy allocated(node->turn.get(), &TurnClient::allocated);
    node->turn->allocate();
    if (!allocated.wait(5000) && allocated.isEmpty()) {
        qWarning().noquote() << "allocation failed:" << node->turn->errorString();
        return nullptr;
    }
    return node;
}

void tst_TurnClient::allocates() {
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start(kLongTerm));
    Node node(_coturn->address(), kGood);
    QSignalSpy allocated(node.turn.get(), &TurnClient::allocated);
    QSignalSpy errors(node.turn.get(), &TurnClient::errorOccurred);
    node.turn->allocate();
    QCOMPARE(node.turn->state(), TurnClient::Allocating);
    QVERIFY(allocated.wait(5000));
    QCOMPARE(errors.count(), 0);
    QCOMPARE(node.turn->state(), TurnClient::Allocated);

    const SockAddr relayed = node.turn->relayedAddress();
    QCOMPARE(relayed.getAddress(), kLoopback);
    QVERIFY(relayed.getPort() != 0);
    QVERIFY(relayed.getPort() != _coturn->address().getPort());
    // XOR-MAPPED-ADDRESS: the server saw our own socket (no NAT on loopback).
    QCOMPARE(node.turn->mappedAddress(), node.transport.localSocket());
    QCOMPARE(allocated.first().at(0).value<SockAddr>(), relayed);
    // The 401 round happened: a first Allocate without credentials, then a signed one.
    QCOMPARE(node.errorResponses(401), 1);
    const auto first = TurnMessage::decode(node.transport.sent.first());
    const auto second = TurnMessage::decode(node.transport.sent.at(1));
    QVERIFY(first.ok() && second.ok());
    QVERIFY(!first.value.hasIntegrity && first.value.username.isEmpty());
    QVERIFY(second.value.hasIntegrity && second.value.hasFingerprint);
    QCOMPARE(second.value.username, QByteArray("u"));
    QCOMPARE(second.value.realm, QByteArray("R"));
    QVERIFY(TurnMessage::checkIntegrity(node.transport.sent.at(1), TurnMessage::longTermKey("u", "R", "p")));
    // Never a low TTL toward the server.
    for (int ttl : node.transport.ttls) {
        QCOMPARE(ttl, 0);
    }
    QVERIFY(node.notConsumed.isEmpty());
}

void tst_TurnClient::restApiCredentials() {
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start({ QStringLiteral("--use-auth-secret"), QStringLiteral("--static-auth-secret"),
                             QStringLiteral("S"), QStringLiteral("--realm"), QStringLiteral("R") }));
    const TurnCredentials credentials = TurnCredentials::fromSharedSecretFromNow("S", QStringLiteral("alice"), 3600);
    QVERIFY(credentials.username.endsWith(QStringLiteral(":alice")));
    auto node = allocatedNode(credentials);
    QVERIFY(node);
    QCOMPARE(node->turn->state(), TurnClient::Allocated);

    // And the relay works with them: a permission and a datagram from a plain peer.
    PlainPeer peer;
    QSignalSpy permitted(node->turn.get(), &TurnClient::permissionCreated);
    QSignalSpy relayed(node->turn.get(), &TurnClient::relayedDatagram);
    node->turn->addPermission(kLoopback);
    QVERIFY(permitted.wait(5000));
    peer.sendTo(node->turn->relayedAddress(), "over the REST credentials");
    QVERIFY(relayed.wait(5000));
    QCOMPARE(relayed.first().at(0).toByteArray(), QByteArray("over the REST credentials"));
}

void tst_TurnClient::restApiExpiredCredentials() {
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start({ QStringLiteral("--use-auth-secret"), QStringLiteral("--static-auth-secret"),
                             QStringLiteral("S"), QStringLiteral("--realm"), QStringLiteral("R") }));
    Node expired(_coturn->address(), TurnCredentials::fromSharedSecretFromNow("S", QStringLiteral("alice"), -60));
    QSignalSpy errors(expired.turn.get(), &TurnClient::errorOccurred);
    expired.turn->allocate();
    QVERIFY(errors.wait(5000));
    QCOMPARE(expired.turn->error(), TurnClient::Unauthorized);

    Node wrongSecret(_coturn->address(),
                     TurnCredentials::fromSharedSecretFromNow("not S", QStringLiteral("alice"), 3600));
    QSignalSpy wrongErrors(wrongSecret.turn.get(), &TurnClient::errorOccurred);
    wrongSecret.turn->allocate();
    QVERIFY(wrongErrors.wait(5000));
    QCOMPARE(wrongSecret.turn->error(), TurnClient::Unauthorized);
}

void tst_TurnClient::permissionAndIndications() {
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start(kLongTerm));
    auto node = allocatedNode();
    QVERIFY(node);
    PlainPeer peer;

    // Without a permission the relay drops what the peer sends; with one it arrives as a Data
    // indication carrying the peer's address.
    QSignalSpy permitted(node->turn.get(), &TurnClient::permissionCreated);
    QSignalSpy relayed(node->turn.get(), &TurnClient::relayedDatagram);
    node->turn->addPermission(kLoopback);
    QVERIFY(!node->turn->hasPermission(kLoopback));
    QVERIFY(permitted.wait(5000));
    QVERIFY(node->turn->hasPermission(kLoopback));
    QCOMPARE(permitted.first().at(0).value<QHostAddress>(), kLoopback);

    peer.sendTo(node->turn->relayedAddress(), "ping from peer");
    QVERIFY(relayed.wait(5000));
    QCOMPARE(relayed.first().at(0).toByteArray(), QByteArray("ping from peer"));
    QCOMPARE(relayed.first().at(1).value<SockAddr>(), peer.address());
    const auto last = TurnMessage::decode(node->fromServer.last());
    QVERIFY(last.ok());
    QCOMPARE(last.value.type(), quint16(0x0017)); // a Data indication

    // Back through the relay as a Send indication: the peer sees the relayed address as the sender.
    QCOMPARE(node->turn->sendTo(peer.address(), "pong from relayed client"), qint64(24));
    QTRY_COMPARE_WITH_TIMEOUT(peer.received.size(), 1, 5000);
    QCOMPARE(peer.received.first().first, QByteArray("pong from relayed client"));
    QCOMPARE(peer.received.first().second, node->turn->relayedAddress());
    QCOMPARE(TurnMessage::decode(node->transport.sent.last()).value.type(), quint16(0x0016));

    // Another port of the permitted IP gets through too (permissions are per IP).
    PlainPeer otherPort;
    otherPort.sendTo(node->turn->relayedAddress(), "from another port");
    QTRY_COMPARE_WITH_TIMEOUT(relayed.count(), 2, 5000);
    QCOMPARE(relayed.last().at(1).value<SockAddr>(), otherPort.address());
}

void tst_TurnClient::channelBothWays() {
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start(kLongTerm));
    auto node = allocatedNode();
    QVERIFY(node);
    PlainPeer peer;

    QSignalSpy bound(node->turn.get(), &TurnClient::channelBound);
    QSignalSpy relayed(node->turn.get(), &TurnClient::relayedDatagram);
    QVERIFY(node->turn->bindChannel(peer.address()));
    QVERIFY(bound.wait(5000));
    const quint16 channel = node->turn->channelFor(peer.address());
    QCOMPARE(channel, quint16(0x4000));
    QCOMPARE(bound.first().at(0).value<SockAddr>(), peer.address());

    peer.sendTo(node->turn->relayedAddress(), "over the channel");
    QVERIFY(relayed.wait(5000));
    QCOMPARE(relayed.first().at(0).toByteArray(), QByteArray("over the channel"));
    QCOMPARE(relayed.first().at(1).value<SockAddr>(), peer.address());
    QCOMPARE(turnFraming(node->fromServer.last()), TurnFraming::ChannelData);

    node->turn->sendTo(peer.address(), "back over the channel");
    QTRY_COMPARE_WITH_TIMEOUT(peer.received.size(), 1, 5000);
    QCOMPARE(peer.received.first().first, QByteArray("back over the channel"));
    QCOMPARE(peer.received.first().second, node->turn->relayedAddress());
    const auto sent = ChannelData::decode(node->transport.sent.last());
    QVERIFY(sent.ok());
    QCOMPARE(sent.value.channel, channel);

    // The channel's IP, another port: no channel there, so a Data indication, still accepted.
    PlainPeer otherPort;
    otherPort.sendTo(node->turn->relayedAddress(), "other port, same IP");
    QTRY_COMPARE_WITH_TIMEOUT(relayed.count(), 2, 5000);
    QCOMPARE(relayed.last().at(1).value<SockAddr>(), otherPort.address());
    QCOMPARE(turnFraming(node->fromServer.last()), TurnFraming::Stun);
}

void tst_TurnClient::twoRelayedClients() {
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start(kLongTerm));
    auto a = allocatedNode();
    auto b = allocatedNode();
    QVERIFY(a && b);
    QSignalSpy aPermitted(a->turn.get(), &TurnClient::permissionCreated);
    QSignalSpy bPermitted(b->turn.get(), &TurnClient::permissionCreated);
    a->turn->addPermission(b->turn->relayedAddress().getAddress());
    b->turn->addPermission(a->turn->relayedAddress().getAddress());
    QTRY_VERIFY_WITH_TIMEOUT(aPermitted.count() == 1 && bPermitted.count() == 1, 5000);

    QSignalSpy atA(a->turn.get(), &TurnClient::relayedDatagram);
    QSignalSpy atB(b->turn.get(), &TurnClient::relayedDatagram);
    a->turn->sendTo(b->turn->relayedAddress(), "a to b");
    QVERIFY(atB.wait(5000));
    QCOMPARE(atB.first().at(0).toByteArray(), QByteArray("a to b"));
    QCOMPARE(atB.first().at(1).value<SockAddr>(), a->turn->relayedAddress());
    // B answers the address the relay reported.
    b->turn->sendTo(atB.first().at(1).value<SockAddr>(), "b to a");
    QVERIFY(atA.wait(5000));
    QCOMPARE(atA.first().at(0).toByteArray(), QByteArray("b to a"));
    QCOMPARE(atA.first().at(1).value<SockAddr>(), b->turn->relayedAddress());
}

// coturn grants at most 4 s; the client refreshes at half the lifetime and the allocation outlives
// several lifetimes, still relaying.
void tst_TurnClient::refreshKeepsShortAllocation() {
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start(kLongTerm + QStringList { QStringLiteral("--max-allocate-lifetime=4") }));
    auto node = allocatedNode(kGood, askingAnHour());
    QVERIFY(node);
    QSignalSpy refreshed(node->turn.get(), &TurnClient::refreshed);
    QSignalSpy errors(node->turn.get(), &TurnClient::errorOccurred);
    QTRY_VERIFY_WITH_TIMEOUT(refreshed.count() >= 4, 15000); // about 8 s: two lifetimes
    QCOMPARE(errors.count(), 0);
    QVERIFY(refreshed.last().at(0).toUInt() <= 4);

    PlainPeer peer;
    QSignalSpy relayed(node->turn.get(), &TurnClient::relayedDatagram);
    QSignalSpy permitted(node->turn.get(), &TurnClient::permissionCreated);
    node->turn->addPermission(kLoopback);
    QVERIFY(permitted.wait(5000));
    peer.sendTo(node->turn->relayedAddress(), "still allocated");
    QVERIFY(relayed.wait(5000));
}

// Permissions live 3 s and channels 4 s on this server. A client that knows it refreshes both and
// keeps receiving over the channel; one that believes the RFC's 300 s loses its permission.
void tst_TurnClient::refreshKeepsShortPermissionAndChannel() {
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start(
        kLongTerm + QStringList { QStringLiteral("--permission-lifetime=3"), QStringLiteral("--channel-lifetime=4") }));
    TurnClient::Timing timing;
    timing.permissionLifetimeSec = 3;
    timing.channelLifetimeSec = 4;
    auto kept = allocatedNode(kGood, timing);
    auto lapsed = allocatedNode();
    QVERIFY(kept && lapsed);
    PlainPeer peer;

    QSignalSpy keptBound(kept->turn.get(), &TurnClient::channelBound);
    QSignalSpy keptPermitted(kept->turn.get(), &TurnClient::permissionCreated);
    QSignalSpy lapsedPermitted(lapsed->turn.get(), &TurnClient::permissionCreated);
    QVERIFY(kept->turn->bindChannel(peer.address()));
    lapsed->turn->addPermission(kLoopback);
    QVERIFY(lapsedPermitted.wait(5000));
    // About 9 s: three permission lifetimes, two channel lifetimes.
    QTRY_VERIFY_WITH_TIMEOUT(keptPermitted.count() >= 6 && keptBound.count() >= 4, 20000);

    QSignalSpy keptRelayed(kept->turn.get(), &TurnClient::relayedDatagram);
    QSignalSpy lapsedRelayed(lapsed->turn.get(), &TurnClient::relayedDatagram);
    peer.sendTo(lapsed->turn->relayedAddress(), "to the lapsed one");
    peer.sendTo(kept->turn->relayedAddress(), "to the kept one");
    QVERIFY(keptRelayed.wait(5000));
    QCOMPARE(keptRelayed.first().at(0).toByteArray(), QByteArray("to the kept one"));
    QCOMPARE(turnFraming(kept->fromServer.last()), TurnFraming::ChannelData);
    // The control: sent first over the same loopback and server, and dropped by the relay.
    QTest::qWait(300);
    QCOMPARE(lapsedRelayed.count(), 0);
}

// Nonces live 2 s on this server: the refresh at 3 s meets 438 Stale Nonce, signs again with the
// new nonce and succeeds.
void tst_TurnClient::staleNonceRecovered() {
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start(
        kLongTerm + QStringList { QStringLiteral("--stale-nonce=2"), QStringLiteral("--max-allocate-lifetime=6") }));
    auto node = allocatedNode(kGood, askingAnHour());
    QVERIFY(node);
    QSignalSpy refreshed(node->turn.get(), &TurnClient::refreshed);
    QSignalSpy errors(node->turn.get(), &TurnClient::errorOccurred);
    QTRY_VERIFY_WITH_TIMEOUT(refreshed.count() >= 2, 15000);
    QVERIFY(node->errorResponses(438) >= 1);
    QCOMPARE(errors.count(), 0);
    QCOMPARE(node->turn->state(), TurnClient::Allocated);
}

void tst_TurnClient::wrongPassword() {
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start(kLongTerm));
    Node node(_coturn->address(), TurnCredentials { QStringLiteral("u"), QStringLiteral("wrong") });
    QSignalSpy errors(node.turn.get(), &TurnClient::errorOccurred);
    QSignalSpy allocated(node.turn.get(), &TurnClient::allocated);
    node.turn->allocate();
    QVERIFY(errors.wait(5000));
    QCOMPARE(errors.count(), 1);
    QCOMPARE(errors.first().at(0).value<TurnClient::Error>(), TurnClient::Unauthorized);
    QCOMPARE(node.turn->error(), TurnClient::Unauthorized);
    QCOMPARE(node.turn->state(), TurnClient::Failed);
    const QString why = node.turn->errorString();
    QVERIFY2(why.contains(QStringLiteral("rejected the credentials of user \"u\" in realm \"R\"")), qPrintable(why));
    QVERIFY2(why.contains(_coturn->address().toString()), qPrintable(why));
    QCOMPARE(allocated.count(), 0);
    // One unauthenticated try and one signed: no loop of retries with bad credentials.
    QCOMPARE(node.transport.sent.size(), 2);
}

void tst_TurnClient::unansweredPermissionKeepsAllocation_data() {
    QTest::addColumn<int>("lost");
    QTest::addColumn<bool>("givenUp");
    QTest::newRow("one request lost") << 1 << false;
    QTest::newRow("two in a row lost") << 2 << false;
    QTest::newRow("three in a row lost") << 3 << true;
}

// Under loss every transmission of one CreatePermission can go. The allocation is not lost for that:
// the client asks again, and only after three requests in a row went unanswered gives that permission
// up (PermissionFailed; asking again later starts over). The allocation stays in every case.
void tst_TurnClient::unansweredPermissionKeepsAllocation() {
    QFETCH(int, lost);
    QFETCH(bool, givenUp);
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start(kLongTerm));
    TurnClient::Timing timing;
    timing.initialRtoMs = 50;
    timing.maxTransmissions = 4;
    timing.finalWaitFactor = 4;
    auto node = allocatedNode(kGood, timing);
    QVERIFY(node);
    node->transport.losePermissionRequests = lost;
    QSignalSpy permitted(node->turn.get(), &TurnClient::permissionCreated);
    QSignalSpy errors(node->turn.get(), &TurnClient::errorOccurred);

    node->turn->addPermission(kLoopback);
    QTRY_VERIFY_WITH_TIMEOUT(!permitted.isEmpty() || !errors.isEmpty(), 10000);
    QCOMPARE(node->transport.lostPermissionRequests.size(), lost);
    QCOMPARE(node->turn->state(), TurnClient::Allocated);
    if (!givenUp) {
        QVERIFY(errors.isEmpty());
        QVERIFY(node->turn->hasPermission(kLoopback));
        return;
    }
    QCOMPARE(errors.size(), 1);
    QCOMPARE(node->turn->error(), TurnClient::PermissionFailed);
    QVERIFY2(node->turn->errorString().contains(QStringLiteral("did not answer 3 CreatePermission")),
             qPrintable(node->turn->errorString()));
    QVERIFY(!node->turn->hasPermission(kLoopback));
    // The loss is over: asking again gets the permission on the same allocation.
    node->turn->addPermission(kLoopback);
    QVERIFY(permitted.wait(5000));
    QVERIFY(node->turn->hasPermission(kLoopback));
    QCOMPARE(node->turn->state(), TurnClient::Allocated);
}

// Nothing listens: after a bounded number of transmissions on the RFC schedule (shortened here),
// Unreachable with a clear message.
void tst_TurnClient::serverDown() {
    const SockAddr nowhere(kLoopback, CoturnProcess::freePort());
    TurnClient::Timing timing;
    timing.initialRtoMs = 50;
    timing.maxTransmissions = 4;
    timing.finalWaitFactor = 4;
    QCOMPARE(timing.requestTimeoutMs(), 50 + 100 + 200 + 200);
    Node node(nowhere, kGood, timing);
    QSignalSpy errors(node.turn.get(), &TurnClient::errorOccurred);
    QElapsedTimer clock;
    clock.start();
    node.turn->allocate();
    QVERIFY(errors.wait(5000));
    QVERIFY(clock.elapsed() >= 500);
    QCOMPARE(node.turn->error(), TurnClient::Unreachable);
    QCOMPARE(node.turn->state(), TurnClient::Failed);
    QCOMPARE(node.transport.sent.size(), 4);
    for (const QByteArray &datagram : node.transport.sent) {
        QCOMPARE(datagram, node.transport.sent.first()); // retransmissions repeat the request
    }
    const QString why = node.turn->errorString();
    QVERIFY2(why.contains(QStringLiteral("did not answer Allocate (4 transmissions")), qPrintable(why));
    QVERIFY2(why.contains(nowhere.toString()), qPrintable(why));

    // The RFC defaults: 39.5 s, bounded.
    QCOMPARE(TurnClient::Timing().requestTimeoutMs(), 39500);
}

void tst_TurnClient::releaseSendsLifetimeZero() {
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start(kLongTerm));
    auto node = allocatedNode();
    QVERIFY(node);
    QSignalSpy released(node->turn.get(), &TurnClient::released);
    node->turn->release();
    QCOMPARE(node->turn->state(), TurnClient::Releasing);
    QVERIFY(released.wait(5000));
    QCOMPARE(node->turn->state(), TurnClient::Idle);
    const QByteArray last = node->transport.sent.last();
    const auto refresh = TurnMessage::decode(last);
    QVERIFY(refresh.ok());
    QCOMPARE(refresh.value.type(), quint16(0x0004));
    QVERIFY(refresh.value.lifetime && *refresh.value.lifetime == 0);
    QVERIFY(TurnMessage::checkIntegrity(last, TurnMessage::longTermKey("u", "R", "p")));
    // The server confirmed: a Refresh success to that transaction.
    const auto answer = TurnMessage::decode(node->fromServer.last());
    QVERIFY(answer.ok());
    QCOMPARE(answer.value.transactionId, refresh.value.transactionId);
    QCOMPARE(answer.value.messageClass, TurnMessage::SuccessResponse);

    // The server really let go: the same socket (same 5-tuple) allocates again at once. coturn
    // closes the session about a second after LIFETIME 0 and answers 437 Allocation Mismatch until
    // then; the client rides that out itself (mismatchAllocationEnded below).
    QSignalSpy errors(node->turn.get(), &TurnClient::errorOccurred);
    QSignalSpy allocated(node->turn.get(), &TurnClient::allocated);
    node->turn->allocate();
    QVERIFY(allocated.wait(10000));
    QCOMPARE(errors.count(), 0);
    QVERIFY(node->errorResponses(437) <= node->turn->timing().maxMismatchRetries);
}

// A node restarted on the same port finds its predecessor's allocation on its 5-tuple: after a crash
// it lives on until its lifetime ends, and coturn answers every Allocate with 437. The client ends it
// (Refresh, LIFETIME 0, signed with the same credentials) and allocates again; told to give up at
// once (no retries), it reports the refusal.
void tst_TurnClient::mismatchAllocationEnded_data() {
    QTest::addColumn<int>("retries");
    QTest::newRow("retried") << 2;
    QTest::newRow("no retries") << 0;
}

void tst_TurnClient::mismatchAllocationEnded() {
    QFETCH(int, retries);
    _coturn = std::make_unique<CoturnProcess>();
    QVERIFY(_coturn->start(kLongTerm));
    // The predecessor: allocated, then gone without a word (its client object stays, silent).
    auto node = allocatedNode();
    QVERIFY(node);
    const int sentBefore = node->transport.sent.size();

    TurnClient::Timing timing;
    timing.maxMismatchRetries = retries;
    TurnClient successor(&node->transport, _coturn->address(), kGood);
    successor.setTiming(timing);
    QObject::connect(&node->transport, &UdpTransport::datagramReceived, &successor,
                     [&successor](const QByteArray &datagram, const SockAddr &sender) {
                         successor.handleDatagram(datagram, sender);
                     });
    QSignalSpy allocated(&successor, &TurnClient::allocated);
    QSignalSpy errors(&successor, &TurnClient::errorOccurred);
    successor.allocate();
    QTRY_VERIFY_WITH_TIMEOUT(!allocated.isEmpty() || !errors.isEmpty(), 10000);
    QVERIFY(node->errorResponses(437) >= 1);

    if (retries == 0) {
        QCOMPARE(successor.error(), TurnClient::AllocationFailed);
        QVERIFY2(successor.errorString().contains(QStringLiteral("437")), qPrintable(successor.errorString()));
        return;
    }
    QVERIFY2(errors.isEmpty(), qPrintable(successor.errorString()));
    QCOMPARE(successor.state(), TurnClient::Allocated);
    // It ended the old allocation with a signed Refresh of LIFETIME 0 (after the 401 round to an
    // unsigned one: coturn answered the first Allocate with 437 before asking for credentials).
    int signedEnds = 0;
    for (int i = sentBefore; i < node->transport.sent.size(); ++i) {
        const auto message = TurnMessage::decode(node->transport.sent.at(i));
        if (message.ok() && message.value.method == TurnMessage::Refresh && message.value.lifetime
            && *message.value.lifetime == 0
            && TurnMessage::checkIntegrity(node->transport.sent.at(i), TurnMessage::longTermKey("u", "R", "p"))) {
            ++signedEnds;
        }
    }
    QCOMPARE(signedEnds, 1);

    // And the new allocation relays: a plain peer reaches it.
    PlainPeer peer;
    QSignalSpy permitted(&successor, &TurnClient::permissionCreated);
    QSignalSpy relayed(&successor, &TurnClient::relayedDatagram);
    successor.addPermission(kLoopback);
    QVERIFY(permitted.wait(5000));
    peer.sendTo(successor.relayedAddress(), "to the successor");
    QVERIFY(relayed.wait(5000));
    QCOMPARE(relayed.first().at(0).toByteArray(), QByteArray("to the successor"));
}

QTEST_GUILESS_MAIN(tst_TurnClient)
#include "tst_turnclient.moc"

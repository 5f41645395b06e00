// The client's relay fallback (NodeList + RelayFallback) in process, against a real coturn whose
// relayed addresses live on 127.0.0.2 and a fake ice-server + domain on 127.0.0.1. The fake domain
// stands behind a NAT only the relay gets through: whatever does not come from 127.0.0.2 is dropped.
// Checked: the direct attempt first (fallback) or not at all (always); a fresh client ID and the
// relayed address as both sockets in the re-query; the client pings only after the domain's first
// relayed ping, and answers the address the relay reports; the path says "relay". A TURN server
// that did not answer once (every transmission lost) is asked again after the next direct attempt; a domain
// IP first learned from a later peer information is let in too.
#include "CoturnProcess.h"

#include <IcePackets.h>
#include <NLDatagram.h>
#include <NetworkPeer.h>
#include <NodeList.h>

#include <QtCore/QTimer>
#include <QtNetwork/QNetworkDatagram>
#include <QtTest/QtTest>

#if QT_VERSION < QT_VERSION_CHECK(6, 0, 0)
Q_DECLARE_METATYPE(QHostAddress)
#endif
Q_DECLARE_METATYPE(RelayConfig::Mode)

namespace {

const QHostAddress kRelayIp(QStringLiteral("127.0.0.2"));
const TurnCredentials kGood { QStringLiteral("u"), QStringLiteral("p") };

QByteArray datagram(PacketType type, const QByteArray &payload) {
    return NLDatagram::create(type, payload).toDatagram();
}

// A loopback ice-server that knows one domain, and that domain behind a relay-only NAT.
class RelayOnlyDomain : public QObject {
public:
    struct Query {
        QUuid clientID;
        SockAddr publicSocket;
        SockAddr localSocket;
    };

    QUdpSocket ice;
    QUdpSocket domain;
    const QUuid id = QUuid::createUuid();
    QList<Query> queries;
    int directPingsDropped = 0;   // the client's pings from anywhere but the relay
    int relayedPingsAnswered = 0; // the client's pings through the relay
    bool clientPingedFirst = false;
    QList<SockAddr> pingedThroughRelay; // what the domain pings (announced sockets on the relay)
    // A domain still punching the socket of the client's first (direct) query after the re-query,
    // as a real one does for a few seconds. The client must not answer that with its new ID.
    bool pingFirstQueryDirectly = false;
    int directRepliesWithNewID = 0;
    // As an ice-server that has not yet learned a freshly registered domain's public socket: the
    // first answer names no public socket and another local IP than the one the domain pings from.
    bool firstAnswerWithoutPublic = false;

    RelayOnlyDomain() {
        ice.bind(QHostAddress(QHostAddress::LocalHost), 0);
        domain.bind(QHostAddress(QHostAddress::LocalHost), 0);
        connect(&ice, &QUdpSocket::readyRead, this, [this] { readIce(); });
        connect(&domain, &QUdpSocket::readyRead, this, [this] { readDomain(); });
        // Like a domain's punch: every 100 ms, the announced sockets of the latest query. Pings to
        // an address off the relay would die in the client's NAT, so they are not sent at all.
        _pingTimer.setInterval(100);
        connect(&_pingTimer, &QTimer::timeout, this, [this] {
            if (queries.isEmpty()) {
                return;
            }
            IcePing ping;
            ping.senderID = id;
            ping.pingType = PingType::Public;
            if (pingFirstQueryDirectly && queries.size() >= 2) {
                send(domain, datagram(PacketType::ICEPing, ping.toPayload()), queries.first().publicSocket);
            }
            for (const SockAddr &target : { queries.last().publicSocket, queries.last().localSocket }) {
                if (target.getAddress() == kRelayIp) {
                    if (!pingedThroughRelay.contains(target)) {
                        pingedThroughRelay.append(target);
                    }
                    send(domain, datagram(PacketType::ICEPing, ping.toPayload()), target);
                }
            }
        });
        _pingTimer.start();
    }
    SockAddr iceSocket() const { return SockAddr(QHostAddress::LocalHost, ice.localPort()); }
    SockAddr domainSocket() const { return SockAddr(QHostAddress::LocalHost, domain.localPort()); }

private:
    void readIce() {
        while (ice.hasPendingDatagrams()) {
            const QNetworkDatagram in = ice.receiveDatagram();
            const SockAddr sender(in.senderAddress(), quint16(in.senderPort()));
            if (StunMessage::looksLikeStun(in.data())) {
                const Decoded<StunMessage> request = StunMessage::decode(in.data());
                if (request.ok()) {
                    send(ice, StunMessage::bindingSuccess(request.value.transactionId, sender).encode(), sender);
                }
                continue;
            }
            const Decoded<NLDatagram> packet = NLDatagram::fromDatagram(in.data());
            if (!packet.ok() || packet.value.type != PacketType::ICEServerQuery) {
                continue;
            }
            const Decoded<IceServerQuery> query = IceServerQuery::fromPayload(packet.value.payload);
            if (!query.ok() || query.value.domainID != id) {
                continue;
            }
            queries.append({ query.value.clientID, query.value.publicSocket, query.value.localSocket });
            const SockAddr deadLocal(QHostAddress::LocalHost, 9);
            const NetworkPeer answer = firstAnswerWithoutPublic && queries.size() == 1
                                           ? NetworkPeer(id, SockAddr(),
                                                         SockAddr(QHostAddress(QStringLiteral("127.0.0.3")), 9))
                                           : NetworkPeer(id, domainSocket(), deadLocal);
            send(ice, datagram(PacketType::ICEServerPeerInformation, answer.toByteArray()), sender);
        }
    }
    void readDomain() {
        while (domain.hasPendingDatagrams()) {
            const QNetworkDatagram in = domain.receiveDatagram();
            const SockAddr sender(in.senderAddress(), quint16(in.senderPort()));
            const Decoded<NLDatagram> packet = NLDatagram::fromDatagram(in.data());
            if (packet.ok() && packet.value.type == PacketType::ICEPingReply) {
                const Decoded<IcePingReply> reply = IcePingReply::fromPayload(packet.value.payload);
                if (reply.ok() && sender.getAddress() != kRelayIp && queries.size() >= 2
                    && reply.value.senderID == queries.last().clientID) {
                    ++directRepliesWithNewID;
                }
                continue;
            }
            if (!packet.ok() || packet.value.type != PacketType::ICEPing) {
                continue;
            }
            if (sender.getAddress() != kRelayIp) {
                ++directPingsDropped;
                continue;
            }
            if (!pingedThroughRelay.contains(sender)) {
                clientPingedFirst = true;
            }
            const Decoded<IcePing> ping = IcePing::fromPayload(packet.value.payload);
            if (ping.ok()) {
                ++relayedPingsAnswered;
                IcePingReply reply;
                reply.senderID = id;
                reply.pingType = ping.value.pingType;
                send(domain, datagram(PacketType::ICEPingReply, reply.toPayload()), sender);
            }
        }
    }
    static void send(QUdpSocket &socket, const QByteArray &data, const SockAddr &to) {
        socket.writeDatagram(data, to.getAddress(), to.getPort());
    }

    QTimer _pingTimer;
};

// A UDP forwarder in front of the TURN server that loses everything while `silent` (as a lossy link
// can lose every transmission of one request), and forwards both ways otherwise.
class SilenceableRelayPath : public QObject {
public:
    QUdpSocket front; // what the client takes for the TURN server
    QUdpSocket back;  // the one client coturn sees
    bool silent = true;
    int swallowed = 0;

    explicit SilenceableRelayPath(const SockAddr &server) : _server(server) {
        front.bind(QHostAddress(QHostAddress::LocalHost), 0);
        back.bind(QHostAddress(QHostAddress::LocalHost), 0);
        connect(&front, &QUdpSocket::readyRead, this, [this] {
            while (front.hasPendingDatagrams()) {
                const QNetworkDatagram in = front.receiveDatagram();
                if (silent) {
                    ++swallowed;
                    continue;
                }
                _client = SockAddr(in.senderAddress(), quint16(in.senderPort()));
                back.writeDatagram(in.data(), _server.getAddress(), _server.getPort());
            }
        });
        connect(&back, &QUdpSocket::readyRead, this, [this] {
            while (back.hasPendingDatagrams()) {
                const QNetworkDatagram in = back.receiveDatagram();
                if (!silent && !_client.isNull()) {
                    front.writeDatagram(in.data(), _client.getAddress(), _client.getPort());
                }
            }
        });
    }
    SockAddr address() const { return SockAddr(QHostAddress::LocalHost, front.localPort()); }

private:
    SockAddr _server;
    SockAddr _client;
};

} // namespace

class tst_RelayFallback : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void connectsThroughTheRelay_data();
    void connectsThroughTheRelay();
    void silentServerIsAskedAgain();
    void laterPeerInformationIsPermitted();
    void neverMeansDirectOnly();
};

void tst_RelayFallback::initTestCase() {
    qRegisterMetaType<SockAddr>();
    qRegisterMetaType<QHostAddress>();
    QVERIFY2(!CoturnProcess::executable().isEmpty(), "turnserver (coturn) is not installed; see scripts/deps.sh");
}

void tst_RelayFallback::connectsThroughTheRelay_data() {
    QTest::addColumn<RelayConfig::Mode>("mode");
    QTest::addColumn<int>("failedDirectAttempts");
    QTest::newRow("fallback") << RelayConfig::Mode::Fallback << 1;
    QTest::newRow("always") << RelayConfig::Mode::Always << 0;
}

void tst_RelayFallback::connectsThroughTheRelay() {
    QFETCH(RelayConfig::Mode, mode);
    QFETCH(int, failedDirectAttempts);
    CoturnProcess coturn;
    QVERIFY2(coturn.start({ QStringLiteral("--lt-cred-mech"), QStringLiteral("--user"), QStringLiteral("u:p"),
                            QStringLiteral("--realm"), QStringLiteral("icebreaker.test") },
                          kRelayIp.toString()),
             coturn.output().constData());
    RelayOnlyDomain fake;
    fake.pingFirstQueryDirectly = true;

    NodeList nodeList(NodeType::Agent);
    QVERIFY(nodeList.isBound());
    TurnClient *turn = nodeList.setTurnServer(coturn.address(), kGood);
    QVERIFY(turn);
    turn->setTiming(RelayFallback::clientTiming());
    nodeList.setRelayMode(mode);
    nodeList.setMaxPunchAttempts(3);
    nodeList.setStunServer(fake.iceSocket().getAddress().toString(), fake.iceSocket().getPort());
    nodeList.startSTUNPublicSocketUpdate();
    DomainHandler &handler = nodeList.getDomainHandler();
    QSignalSpy discovered(&handler, &DomainHandler::completedSocketDiscovery);
    QSignalSpy failed(&handler, &DomainHandler::errorOccurred);
    handler.setIceServerHostPortAndID(QStringLiteral("127.0.0.1"), fake.iceSocket().getPort(), fake.id);

    QTRY_VERIFY_WITH_TIMEOUT(!discovered.isEmpty() || !failed.isEmpty(), 15000);
    QVERIFY2(failed.isEmpty(), qPrintable(handler.errorString()));
    const SockAddr relayed = turn->relayedAddress();
    QCOMPARE(relayed.getAddress(), kRelayIp);
    QCOMPARE(nodeList.domainPathName(), QStringLiteral("relay ") + relayed.toString());
    // The relay reported the domain's own socket, and that is what the client answered and pinged.
    QCOMPARE(handler.getSockAddr(), fake.domainSocket());
    QVERIFY(nodeList.isRelayedPeer(fake.domainSocket()));
    QVERIFY(nodeList.discoveryRttMs() >= 0);

    QCOMPARE(nodeList.failedPunchAttempts(), failedDirectAttempts);
    // The direct attempt ran (and hit the NAT) with fallback, and never with always.
    QCOMPARE(fake.directPingsDropped > 0, failedDirectAttempts > 0);
    // First query direct, second with a fresh ID and the relayed address as both sockets.
    QCOMPARE(fake.queries.size(), 2);
    QVERIFY(fake.queries.at(0).clientID != fake.queries.at(1).clientID);
    QVERIFY(fake.queries.at(0).publicSocket.getAddress() != kRelayIp);
    QCOMPARE(fake.queries.at(1).publicSocket, relayed);
    QCOMPARE(fake.queries.at(1).localSocket, relayed);
    // The client waited for the domain's first relayed ping before pinging.
    QVERIFY(!fake.clientPingedFirst);
    QVERIFY(fake.relayedPingsAnswered > 0);
    // The domain's leftover pings to the first query's socket went unanswered: a reply there with
    // the new ID would make the domain take the direct path for the relayed client.
    QCOMPARE(fake.directRepliesWithNewID, 0);

    // The keepalive goes through the relay too.
    QSignalSpy replies(&handler, &DomainHandler::domainPingReplyReceived);
    QVERIFY(nodeList.sendPingToDomain(PingType::Public));
    QVERIFY(replies.wait(5000));
    QCOMPARE(replies.first().first().value<SockAddr>(), fake.domainSocket());

    nodeList.releaseTurn(2000);
    QCOMPARE(turn->state(), TurnClient::Idle);
}

// Every transmission of the Allocate lost: the client goes on directly, and after that direct attempt
// failed too it asks the TURN server again (instead of punching directly until it gives up), and
// connects through the relay.
void tst_RelayFallback::silentServerIsAskedAgain() {
    CoturnProcess coturn;
    QVERIFY2(coturn.start({ QStringLiteral("--lt-cred-mech"), QStringLiteral("--user"), QStringLiteral("u:p"),
                            QStringLiteral("--realm"), QStringLiteral("icebreaker.test") },
                          kRelayIp.toString()),
             coturn.output().constData());
    SilenceableRelayPath path(coturn.address());
    RelayOnlyDomain fake;

    NodeList nodeList(NodeType::Agent);
    QVERIFY(nodeList.isBound());
    TurnClient *turn = nodeList.setTurnServer(path.address(), kGood);
    QVERIFY(turn);
    turn->setTiming(RelayFallback::clientTiming());
    QList<TurnClient::Error> turnErrors;
    connect(turn, &TurnClient::errorOccurred, this, [&](TurnClient::Error error) {
        turnErrors.append(error);
        path.silent = false; // the loss is over: the next request gets through
    });
    nodeList.setRelayMode(RelayConfig::Mode::Fallback);
    nodeList.setMaxPunchAttempts(3);
    nodeList.setStunServer(fake.iceSocket().getAddress().toString(), fake.iceSocket().getPort());
    nodeList.startSTUNPublicSocketUpdate();
    DomainHandler &handler = nodeList.getDomainHandler();
    QSignalSpy discovered(&handler, &DomainHandler::completedSocketDiscovery);
    QSignalSpy failed(&handler, &DomainHandler::errorOccurred);
    handler.setIceServerHostPortAndID(QStringLiteral("127.0.0.1"), fake.iceSocket().getPort(), fake.id);

    QTRY_VERIFY_WITH_TIMEOUT(!discovered.isEmpty() || !failed.isEmpty(), 20000);
    QVERIFY2(failed.isEmpty(), qPrintable(handler.errorString()));
    // Every transmission of the first Allocate was lost, and the client gave the server up once.
    QCOMPARE(path.swallowed, RelayFallback::clientTiming().maxTransmissions);
    QCOMPARE(turnErrors, QList<TurnClient::Error> { TurnClient::Unreachable });
    // Direct, relay lost, direct again, then the relay: two failed direct attempts, three queries,
    // the last with the relayed address.
    QCOMPARE(nodeList.failedPunchAttempts(), 2);
    QCOMPARE(fake.queries.size(), 3);
    QCOMPARE(fake.queries.at(1).publicSocket.getAddress(), QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(fake.queries.at(2).publicSocket, turn->relayedAddress());
    QCOMPARE(nodeList.domainPathName(), QStringLiteral("relay ") + turn->relayedAddress().toString());
    QCOMPARE(handler.getSockAddr(), fake.domainSocket());

    nodeList.releaseTurn(2000);
    QCOMPARE(turn->state(), TurnClient::Idle);
}

// The relay starts from the first peer information, which named neither the domain's public socket
// nor the IP its pings come from: the next peer information (the answer to the relayed re-query)
// does, and the relay must let that IP in too, or it drops every ping of the domain.
void tst_RelayFallback::laterPeerInformationIsPermitted() {
    CoturnProcess coturn;
    QVERIFY2(coturn.start({ QStringLiteral("--lt-cred-mech"), QStringLiteral("--user"), QStringLiteral("u:p"),
                            QStringLiteral("--realm"), QStringLiteral("icebreaker.test") },
                          kRelayIp.toString()),
             coturn.output().constData());
    RelayOnlyDomain fake;
    fake.firstAnswerWithoutPublic = true;

    NodeList nodeList(NodeType::Agent);
    QVERIFY(nodeList.isBound());
    TurnClient *turn = nodeList.setTurnServer(coturn.address(), kGood);
    QVERIFY(turn);
    turn->setTiming(RelayFallback::clientTiming());
    nodeList.setRelayMode(RelayConfig::Mode::Fallback);
    nodeList.setMaxPunchAttempts(3);
    nodeList.setStunServer(fake.iceSocket().getAddress().toString(), fake.iceSocket().getPort());
    nodeList.startSTUNPublicSocketUpdate();
    DomainHandler &handler = nodeList.getDomainHandler();
    QSignalSpy discovered(&handler, &DomainHandler::completedSocketDiscovery);
    QSignalSpy failed(&handler, &DomainHandler::errorOccurred);
    handler.setIceServerHostPortAndID(QStringLiteral("127.0.0.1"), fake.iceSocket().getPort(), fake.id);

    QTRY_VERIFY_WITH_TIMEOUT(!discovered.isEmpty() || !failed.isEmpty(), 15000);
    QVERIFY2(failed.isEmpty(), qPrintable(handler.errorString()));
    QVERIFY(turn->hasPermission(QHostAddress(QStringLiteral("127.0.0.3"))));
    QVERIFY(turn->hasPermission(QHostAddress::LocalHost));
    QCOMPARE(nodeList.domainPathName(), QStringLiteral("relay ") + turn->relayedAddress().toString());
    QCOMPARE(handler.getSockAddr(), fake.domainSocket());
    // Connected on the relayed attempt itself, not a later one.
    QCOMPARE(fake.queries.size(), 2);
    QCOMPARE(nodeList.failedPunchAttempts(), 1);
    nodeList.releaseTurn(2000);
}

// Without a relay mode, a TURN server configured changes nothing: the punch fails as before.
void tst_RelayFallback::neverMeansDirectOnly() {
    CoturnProcess coturn;
    QVERIFY2(coturn.start({ QStringLiteral("--lt-cred-mech"), QStringLiteral("--user"), QStringLiteral("u:p"),
                            QStringLiteral("--realm"), QStringLiteral("icebreaker.test") },
                          kRelayIp.toString()),
             coturn.output().constData());
    RelayOnlyDomain fake;
    NodeList nodeList(NodeType::Agent);
    TurnClient *turn = nodeList.setTurnServer(coturn.address(), kGood);
    nodeList.setRelayMode(RelayConfig::Mode::Never);
    nodeList.setMaxPunchAttempts(1);
    DomainHandler &handler = nodeList.getDomainHandler();
    QSignalSpy failed(&handler, &DomainHandler::errorOccurred);
    handler.setIceServerHostPortAndID(QStringLiteral("127.0.0.1"), fake.iceSocket().getPort(), fake.id);
    QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), 10000);
    QCOMPARE(failed.first().first().value<DomainHandler::Error>(), DomainHandler::Error::PunchFailed);
    QCOMPARE(turn->state(), TurnClient::Idle);
    QCOMPARE(fake.queries.size(), 1);
}

QTEST_GUILESS_MAIN(tst_RelayFallback)
#include "tst_relayfallback.moc"

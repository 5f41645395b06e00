// TurnClient without a server process: the demultiplexing rules (what handleDatagram consumes and
// from whom), the credentials of the TURN REST API, and the timing rules, on a FakeTransport with
// the server's answers scripted.
#include <FakeTransport.h>
#include <TurnClient.h>

#include <QtTest/QtTest>

// Qt 6 declares QHostAddress as a metatype (permissionCreated() carries one); Qt 5 does not.
#if QT_VERSION < QT_VERSION_CHECK(6, 0, 0)
Q_DECLARE_METATYPE(QHostAddress)
#endif

namespace {

const SockAddr kServer(QHostAddress(QStringLiteral("198.51.100.1")), 3478);
const SockAddr kPeer(QHostAddress(QStringLiteral("203.0.113.9")), 40102);
const SockAddr kRelayed(QHostAddress(QStringLiteral("198.51.100.1")), 49160);
const QByteArray kKey = TurnMessage::longTermKey("u", "R", "p");

TurnMessage lastSent(FakeTransport &transport) {
    return TurnMessage::decode(transport.sent().last().datagram).value;
}

TurnMessage answer(const TurnMessage &request, TurnMessage::Class messageClass) {
    TurnMessage response;
    response.method = request.method;
    response.messageClass = messageClass;
    response.transactionId = request.transactionId;
    return response;
}

QByteArray dataIndication(const SockAddr &peer, const QByteArray &payload) {
    TurnMessage indication = TurnMessage::create(TurnMessage::Data, TurnMessage::Indication);
    indication.peerAddresses = { peer };
    indication.data = payload;
    return indication.encode();
}

} // namespace

class tst_TurnDemux : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void restApiCredentials();
    void retransmissionSchedule();
    void refreshSchedule();
    void notFromServer_data();
    void notFromServer();
    void fromServer_data();
    void fromServer();
    void forgedSuccessIgnored();
    void staleNonceSignsAgain();
    void sendToFramesByChannelState();

private:
    void allocate();

    FakeTransport *_transport = nullptr;
    TurnClient *_client = nullptr;
};

void tst_TurnDemux::initTestCase() {
    qRegisterMetaType<SockAddr>();
    qRegisterMetaType<QHostAddress>();
    qRegisterMetaType<TurnClient::Error>();
}

void tst_TurnDemux::init() {
    _transport = new FakeTransport(SockAddr(QHostAddress(QStringLiteral("10.0.0.2")), 40102));
    _client = new TurnClient(_transport, kServer, TurnCredentials { QStringLiteral("u"), QStringLiteral("p") });
}

void tst_TurnDemux::cleanup() {
    delete _client;
    delete _transport;
}

// Scripts the server's side of an allocation: 401 with realm and nonce, then success.
void tst_TurnDemux::allocate() {
    QSignalSpy allocated(_client, &TurnClient::allocated);
    _client->allocate();
    TurnMessage challenge = answer(lastSent(*_transport), TurnMessage::ErrorResponse);
    challenge.errorCode = 401;
    challenge.realm = "R";
    challenge.nonce = "n1";
    QVERIFY(_client->handleDatagram(challenge.encode(), kServer));
    const TurnMessage signedRequest = lastSent(*_transport);
    QCOMPARE(signedRequest.username, QByteArray("u"));
    TurnMessage success = answer(signedRequest, TurnMessage::SuccessResponse);
    success.relayedAddress = kRelayed;
    success.mappedAddress = SockAddr(QHostAddress(QStringLiteral("192.0.2.7")), 61000);
    success.lifetime = 600;
    QVERIFY(_client->handleDatagram(success.encode(kKey, true), kServer));
    QCOMPARE(allocated.count(), 1);
    QCOMPARE(_client->relayedAddress(), kRelayed);
}

void tst_TurnDemux::restApiCredentials() {
    // Python: base64(hmac.new(b"S", b"1700000000:alice", sha1).digest())
    const TurnCredentials c = TurnCredentials::fromSharedSecret("S", QStringLiteral("alice"), 1700000000);
    QCOMPARE(c.username, QStringLiteral("1700000000:alice"));
    QCOMPARE(c.password, QStringLiteral("/ji27vSDO/vhBF771oz7Ik6/ULo="));
    QCOMPARE(TurnCredentials::fromSharedSecret("S", QString(), 1700000000).username, QStringLiteral("1700000000"));
}

void tst_TurnDemux::retransmissionSchedule() {
    const TurnClient::Timing rfc;
    const QList<int> expected = { 500, 1000, 2000, 4000, 8000, 16000, 8000 };
    for (int n = 0; n < expected.size(); ++n) {
        QCOMPARE(rfc.waitAfterTransmissionMs(n), expected[n]);
    }
    QCOMPARE(rfc.requestTimeoutMs(), 39500); // RFC 8489 6.2.1's example
}

void tst_TurnDemux::refreshSchedule() {
    const TurnClient::Timing rfc;
    QCOMPARE(rfc.refreshAfterMs(600), 540000); // a minute before the end
    QCOMPARE(rfc.refreshAfterMs(300), 240000);
    QCOMPARE(rfc.refreshAfterMs(4), 2000); // short lifetimes: at half
    QCOMPARE(rfc.refreshAfterMs(0), 1000); // never a busy loop
}

void tst_TurnDemux::notFromServer_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::addColumn<SockAddr>("sender");
    const QByteArray channelData = ChannelData { 0x4000, "x" }.encode();
    QTest::newRow("ChannelData from a peer") << channelData << kPeer;
    QTest::newRow("Data indication from a peer") << dataIndication(kPeer, "x") << kPeer;
    QTest::newRow("ChannelData from the server's IP, another port") << channelData << kRelayed;
    QTest::newRow("Data indication from the relayed address") << dataIndication(kPeer, "x") << kRelayed;
}

// Only the TURN server's own address speaks TURN: whatever else arrives is the node's, whatever its
// first byte, so nobody can inject "relayed" data with a forged peer address.
void tst_TurnDemux::notFromServer() {
    QFETCH(QByteArray, datagram);
    QFETCH(SockAddr, sender);
    allocate();
    QVERIFY(_client->bindChannel(kPeer));
    QSignalSpy relayed(_client, &TurnClient::relayedDatagram);
    QVERIFY(!_client->handleDatagram(datagram, sender));
    QCOMPARE(relayed.count(), 0);
}

void tst_TurnDemux::fromServer_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::addColumn<bool>("consumed");
    QTest::addColumn<int>("relayed");
    QTest::newRow("ChannelData on the bound channel") << ChannelData { 0x4000, "x" }.encode() << true << 1;
    QTest::newRow("ChannelData unpadded") << QByteArray::fromHex("40000001") + "x" << true << 1;
    QTest::newRow("ChannelData on an unknown channel") << ChannelData { 0x4001, "x" }.encode() << true << 0;
    QTest::newRow("ChannelData malformed") << QByteArray::fromHex("4000ffff") << true << 0;
    QTest::newRow("Data indication") << dataIndication(kPeer, "x") << true << 1;
    QTest::newRow("Data indication, another port of the IP")
        << dataIndication(SockAddr(kPeer.getAddress(), 1), "x") << true << 1;
    QTest::newRow("Data indication without DATA")
        << TurnMessage::create(TurnMessage::Data, TurnMessage::Indication).encode() << true << 0;
    // The node may use the same server for STUN: a binding response to its request is not ours.
    QTest::newRow("someone else's binding response")
        << TurnMessage::create(TurnMessage::Binding, TurnMessage::SuccessResponse).encode() << false << 0;
    QTest::newRow("a response to no request of ours")
        << TurnMessage::create(TurnMessage::Refresh, TurnMessage::SuccessResponse).encode() << false << 0;
    QTest::newRow("STUN-framed garbage") << QByteArray::fromHex("0017ffff2112a442") << false << 0;
    QTest::newRow("first byte 0x50") << QByteArray::fromHex("50000001") << false << 0;
    QTest::newRow("empty") << QByteArray() << false << 0;
}

void tst_TurnDemux::fromServer() {
    QFETCH(QByteArray, datagram);
    QFETCH(bool, consumed);
    QFETCH(int, relayed);
    allocate();
    QVERIFY(_client->bindChannel(kPeer));
    QSignalSpy relayedSpy(_client, &TurnClient::relayedDatagram);
    QCOMPARE(_client->handleDatagram(datagram, kServer), consumed);
    QCOMPARE(relayedSpy.count(), relayed);
    if (relayed) {
        QCOMPARE(relayedSpy.first().at(0).toByteArray(), QByteArray("x"));
        QCOMPARE(relayedSpy.first().at(1).value<SockAddr>().getAddress(), kPeer.getAddress());
    }
}

// A success response to a signed request must carry a valid MESSAGE-INTEGRITY; one that does not
// is dropped and the request stays open for the real answer.
void tst_TurnDemux::forgedSuccessIgnored() {
    allocate();
    QSignalSpy permitted(_client, &TurnClient::permissionCreated);
    _client->addPermission(kPeer.getAddress());
    const TurnMessage request = lastSent(*_transport);
    QCOMPARE(request.method, quint16(TurnMessage::CreatePermission));
    const TurnMessage success = answer(request, TurnMessage::SuccessResponse);
    QVERIFY(_client->handleDatagram(success.encode(), kServer));
    QVERIFY(_client->handleDatagram(success.encode(TurnMessage::longTermKey("u", "R", "guess"), true), kServer));
    QCOMPARE(permitted.count(), 0);
    QVERIFY(_client->handleDatagram(success.encode(kKey, true), kServer));
    QCOMPARE(permitted.count(), 1);
    QVERIFY(_client->hasPermission(kPeer.getAddress()));
}

void tst_TurnDemux::staleNonceSignsAgain() {
    allocate();
    _client->addPermission(kPeer.getAddress());
    const TurnMessage first = lastSent(*_transport);
    TurnMessage stale = answer(first, TurnMessage::ErrorResponse);
    stale.errorCode = 438;
    stale.nonce = "n2";
    stale.realm = "R";
    QVERIFY(_client->handleDatagram(stale.encode(), kServer));
    const QByteArray retryBytes = _transport->sent().last().datagram;
    const TurnMessage retry = TurnMessage::decode(retryBytes).value;
    QCOMPARE(retry.method, quint16(TurnMessage::CreatePermission));
    QCOMPARE(retry.nonce, QByteArray("n2"));
    QVERIFY(retry.transactionId != first.transactionId);
    QVERIFY(TurnMessage::checkIntegrity(retryBytes, kKey));
    QCOMPARE(_client->error(), TurnClient::NoError);
}

void tst_TurnDemux::sendToFramesByChannelState() {
    QCOMPARE(_client->sendTo(kPeer, "early"), qint64(-1)); // nothing allocated yet
    allocate();
    QVERIFY(_client->bindChannel(kPeer));
    const TurnMessage bind = lastSent(*_transport);
    QCOMPARE(bind.method, quint16(TurnMessage::ChannelBind));
    QCOMPARE(*bind.channelNumber, quint16(0x4000));

    // Until the server confirms the channel: a Send indication.
    QCOMPARE(_client->sendTo(kPeer, "before"), qint64(6));
    const TurnMessage indication = lastSent(*_transport);
    QCOMPARE(indication.type(), quint16(0x0016));
    QCOMPARE(*indication.data, QByteArray("before"));
    QCOMPARE(_transport->sent().last().destination, kServer);
    QCOMPARE(_transport->sent().last().ttl, 0);

    QVERIFY(_client->handleDatagram(answer(bind, TurnMessage::SuccessResponse).encode(kKey, true), kServer));
    QCOMPARE(_client->channelFor(kPeer), quint16(0x4000));
    QCOMPARE(_client->sendTo(kPeer, "after"), qint64(5));
    const auto frame = ChannelData::decode(_transport->sent().last().datagram);
    QVERIFY(frame.ok());
    QCOMPARE(frame.value.channel, quint16(0x4000));
    QCOMPARE(frame.value.payload, QByteArray("after"));

    QCOMPARE(_client->sendTo(kPeer, QByteArray(TurnClient::MaxPayloadSize + 1, 'x')), qint64(-1));
}

QTEST_GUILESS_MAIN(tst_TurnDemux)
#include "tst_turndemux.moc"

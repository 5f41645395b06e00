// DomainServer's first registration over FakeTransport: the heartbeat that registers the domain
// carries the public socket STUN found, and goes out the moment STUN answers (or gives up), so an
// ice-server never announces a freshly started domain with no public socket.
#include "DomainTestUtil.h"

#include <DomainServer.h>
#include <IceHeartbeater.h>
#include <LimitedNodeList.h>
#include <StunMessage.h>

#include <QtCore/QTemporaryDir>

namespace {
const SockAddr IceServer = sock("192.0.2.1", 7337); // also the STUN server: no --stun given

struct Domain {
    Domain() : nodeList(&transport) {
        settings.domainID = samples::domainID();
        settings.keypairPath = dir.filePath(QStringLiteral("domain.key"));
        settings.iceServers = { HostAndPort::parse(IceServer.toString(), 7337) };
        server.reset(new DomainServer(settings, &nodeList));
    }

    // Indices into transport.sent() of the STUN requests and the heartbeats, in sending order.
    QList<int> sentIndices(bool stun) const {
        QList<int> out;
        const QList<FakeTransport::Sent> &sent = transport.sent();
        for (int i = 0; i < sent.size(); ++i) {
            if (sent[i].destination != IceServer) {
                continue;
            }
            const bool isStun = StunMessage::looksLikeStun(sent[i].datagram);
            const Decoded<NLDatagram> packet = NLDatagram::fromDatagram(sent[i].datagram);
            if (stun ? isStun : !isStun && packet.ok() && packet.value.type == PacketType::ICEServerHeartbeat) {
                out.append(i);
            }
        }
        return out;
    }
    SockAddr heartbeatPublicSocket(int sentIndex) const {
        const Decoded<NLDatagram> packet = NLDatagram::fromDatagram(transport.sent().at(sentIndex).datagram);
        return IceServerHeartbeat::fromPayload(packet.value.payload).value.publicSocket;
    }

    QTemporaryDir dir;
    FakeTransport transport { samples::domainLocal() };
    LimitedNodeList nodeList;
    DomainServer::Settings settings;
    QScopedPointer<DomainServer> server;
};
} // namespace

class tst_DomainRegistration : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void firstHeartbeatCarriesTheStunAnswer() {
        Domain domain;
        QVERIFY2(domain.server->start(), qPrintable(domain.server->errorString()));
        const QList<int> stun = domain.sentIndices(true);
        QCOMPARE(stun.size(), 1);
        QCOMPARE(domain.sentIndices(false).size(), 0); // STUN asked, no heartbeat yet
        QVERIFY(domain.server->heartbeater()->isAwaitingPublicSocket());

        const Decoded<StunMessage> request = StunMessage::decode(domain.transport.sent().at(stun.first()).datagram);
        QVERIFY(request.ok());
        const SockAddr mapped = sock("198.51.100.2", 40000);
        domain.transport.inject(StunMessage::bindingSuccess(request.value.transactionId, mapped).encode(), IceServer);
        const QList<int> heartbeats = domain.sentIndices(false);
        QCOMPARE(heartbeats.size(), 1); // at once, not on the next tick
        QCOMPARE(domain.heartbeatPublicSocket(heartbeats.first()), mapped);
        QVERIFY(!domain.server->heartbeater()->isAwaitingPublicSocket());
    }

    void stunThatNeverAnswersDelaysOnlyUntilItGivesUp() {
        // About 2.75 s of real STUN timer: 11 requests 250 ms apart, then the verdict.
        Domain domain;
        QSignalSpy stunDone(&domain.nodeList, &LimitedNodeList::initialSTUNCompleted);
        QVERIFY2(domain.server->start(), qPrintable(domain.server->errorString()));
        QTRY_COMPARE_WITH_TIMEOUT(stunDone.size(), 1, 10000);
        QCOMPARE(stunDone.first().first().toBool(), false);

        const QList<int> heartbeats = domain.sentIndices(false);
        QVERIFY(!heartbeats.isEmpty()); // (a 1 s tick may have added another since)
        const QList<int> stun = domain.sentIndices(true);
        QCOMPARE(stun.size(), LimitedNodeList::MAX_INITIAL_STUN_REQUESTS + 1);
        QVERIFY(heartbeats.first() > stun.last());
        // STUN's failure value: no address, our port (docs/protocol.md section 6).
        QCOMPARE(domain.heartbeatPublicSocket(heartbeats.first()),
                 SockAddr(QHostAddress(), samples::domainLocal().getPort()));
    }
};

QTEST_GUILESS_MAIN(tst_DomainRegistration)
#include "tst_domainregistration.moc"

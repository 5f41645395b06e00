// A loopback ice-server (answers STUN, sends the known domain's peer information) and that domain
// (answers ICE pings), in the test process, for running the client binaries against.
#pragma once

#include "ClientTestUtil.h"

#include <QtCore/QProcess>
#include <QtNetwork/QNetworkDatagram>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QTest>

namespace client_test {

// A loopback ice-server that knows one domain, and the domain itself.
class FakeIce : public QObject {
public:
    QUdpSocket ice;
    QUdpSocket domain;
    QUuid knownDomain = domainID();
    bool answerStun = true;
    bool domainAnswers = true;
    int queries = 0;
    int domainPings = 0;

    FakeIce() {
        ice.bind(QHostAddress(QHostAddress::LocalHost), 0);
        domain.bind(QHostAddress(QHostAddress::LocalHost), 0);
        connect(&ice, &QUdpSocket::readyRead, this, [this] { readIce(); });
        connect(&domain, &QUdpSocket::readyRead, this, [this] { readDomain(); });
    }
    QString iceAddress() const { return QStringLiteral("127.0.0.1:%1").arg(ice.localPort()); }
    SockAddr domainSocket() const { return SockAddr(QHostAddress::LocalHost, domain.localPort()); }

    void readIce() {
        while (ice.hasPendingDatagrams()) {
            const QNetworkDatagram in = ice.receiveDatagram();
            const SockAddr sender(in.senderAddress(), quint16(in.senderPort()));
            if (StunMessage::looksLikeStun(in.data())) {
                const Decoded<StunMessage> request = StunMessage::decode(in.data());
                if (answerStun && request.ok()) {
                    send(ice, StunMessage::bindingSuccess(request.value.transactionId, sender).encode(), sender);
                }
                continue;
            }
            const Decoded<NLDatagram> packet = NLDatagram::fromDatagram(in.data());
            if (!packet.ok() || packet.value.type != PacketType::ICEServerQuery) {
                continue;
            }
            ++queries;
            const Decoded<IceServerQuery> query = IceServerQuery::fromPayload(packet.value.payload);
            if (query.ok() && query.value.domainID == knownDomain) {
                // The domain reports a local socket nobody listens on and its real one as public.
                const SockAddr deadLocal(QHostAddress(QStringLiteral("127.0.0.1")), 9);
                send(ice,
                     datagram(PacketType::ICEServerPeerInformation,
                              NetworkPeer(knownDomain, domainSocket(), deadLocal).toByteArray()),
                     sender);
            }
        }
    }
    void readDomain() {
        while (domain.hasPendingDatagrams()) {
            const QNetworkDatagram in = domain.receiveDatagram();
            const Decoded<NLDatagram> packet = NLDatagram::fromDatagram(in.data());
            if (!packet.ok() || packet.value.type != PacketType::ICEPing) {
                continue;
            }
            ++domainPings;
            const Decoded<IcePing> ping = IcePing::fromPayload(packet.value.payload);
            if (domainAnswers && ping.ok()) {
                IcePingReply reply;
                reply.senderID = knownDomain;
                reply.pingType = ping.value.pingType;
                send(domain, datagram(PacketType::ICEPingReply, reply.toPayload()),
                     SockAddr(in.senderAddress(), quint16(in.senderPort())));
            }
        }
    }
    static void send(QUdpSocket &socket, const QByteArray &data, const SockAddr &to) {
        socket.writeDatagram(data, to.getAddress(), to.getPort());
    }
};

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

// Runs a binary to its end; the fakes live on this thread, so QTRY keeps the event loop turning.
inline void runBinary(const QString &path, const QStringList &arguments, Run *run, int timeoutMs = 30000) {
    QProcess process;
    process.start(path, arguments);
    QVERIFY2(process.waitForStarted(5000), qPrintable(process.errorString()));
    QTRY_VERIFY_WITH_TIMEOUT(process.state() == QProcess::NotRunning, timeoutMs);
    run->exitCode = process.exitCode();
    run->out = QString::fromUtf8(process.readAllStandardOutput());
    run->err = QString::fromUtf8(process.readAllStandardError());
}

} // namespace client_test

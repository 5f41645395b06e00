// Uses the installed headers and library the way a host codebase would: encode an ICE query and
// decode it back. Exit code 0 only if the round trip holds.
#include <IcePackets.h>
#include <NLDatagram.h>
#include <PacketReceiver.h>
#include <RsaPublicKey.h>

#include <cstdio>

int main() {
    IceServerQuery query;
    query.clientID = QUuid::createUuid();
    query.domainID = QUuid::createUuid();
    query.publicSocket = SockAddr(QHostAddress(QStringLiteral("203.0.113.5")), 40102);
    query.localSocket = SockAddr(QHostAddress(QStringLiteral("198.18.0.10")), 40102);
    const QByteArray datagram = NLDatagram::create(PacketType::ICEServerQuery, query.toPayload()).toDatagram();
    const auto packet = NLDatagram::fromDatagram(datagram);
    const auto decoded = IceServerQuery::fromPayload(packet.value.payload);
    const bool ok = packet.ok() && decoded.ok() && decoded.value.domainID == query.domainID
                    && decoded.value.publicSocket == query.publicSocket && RsaPublicKey().isNull();
    std::printf("consumer: %s\n", ok ? "round trip ok" : "round trip FAILED");
    return ok ? 0 : 1;
}

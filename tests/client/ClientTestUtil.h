// Helpers shared by the client-role suites: golden hex, the protocol document's sample values, and
// decoding what a FakeTransport sent.
#pragma once

#include <FakeTransport.h>
#include <IcePackets.h>
#include <NLDatagram.h>
#include <StunMessage.h>

#include <QtCore/QUuid>

namespace client_test {

inline QByteArray hex(const char *text) { return QByteArray::fromHex(QByteArray(text)); }

// protocol/overte-ice.md 2.5 sample values.
inline QUuid clientID() { return QUuid(QStringLiteral("{11223344-5566-7788-99aa-bbccddeeff00}")); }
inline QUuid domainID() { return QUuid(QStringLiteral("{6ba7b810-9dad-11d1-80b4-00c04fd430c8}")); }
inline SockAddr clientPublic() { return SockAddr(QHostAddress(QStringLiteral("203.0.113.5")), 40102); }
inline SockAddr clientLocal() { return SockAddr(QHostAddress(QStringLiteral("192.168.1.10")), 40102); }
inline SockAddr domainPublic() { return SockAddr(QHostAddress(QStringLiteral("198.51.100.7")), 40102); }
inline SockAddr domainLocal() { return SockAddr(QHostAddress(QStringLiteral("10.0.0.2")), 40102); }
inline SockAddr iceServer() { return SockAddr(QHostAddress(QStringLiteral("192.0.2.1")), 7337); }

inline QByteArray datagram(PacketType type, const QByteArray &payload) {
    return NLDatagram::create(type, payload).toDatagram();
}

// The sent datagrams that decode as the type, in order.
inline QList<FakeTransport::Sent> sentOfType(const FakeTransport &transport, PacketType type) {
    QList<FakeTransport::Sent> out;
    for (const FakeTransport::Sent &sent : transport.sent()) {
        if (StunMessage::looksLikeStun(sent.datagram)) {
            continue;
        }
        const Decoded<NLDatagram> packet = NLDatagram::fromDatagram(sent.datagram);
        if (packet.ok() && packet.value.type == type) {
            out.append(sent);
        }
    }
    return out;
}

inline QList<FakeTransport::Sent> sentStun(const FakeTransport &transport) {
    QList<FakeTransport::Sent> out;
    for (const FakeTransport::Sent &sent : transport.sent()) {
        if (StunMessage::looksLikeStun(sent.datagram)) {
            out.append(sent);
        }
    }
    return out;
}

inline QByteArray payloadOf(const QByteArray &datagram) {
    return NLDatagram::fromDatagram(datagram).value.payload;
}

} // namespace client_test

// Helpers shared by the client-role suites: golden hex, the protocol document's sample values
// (SampleValues.h), and decoding what a FakeTransport sent.
#pragma once

#include <FakeTransport.h>
#include <IcePackets.h>
#include <NLDatagram.h>
#include <SampleValues.h>
#include <StunMessage.h>

#include <QtCore/QUuid>

namespace client_test {

inline QByteArray hex(const char *text) {
    return QByteArray::fromHex(QByteArray(text));
}

using namespace samples;

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

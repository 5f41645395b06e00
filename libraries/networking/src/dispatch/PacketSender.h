// Sends NL packets through a transport the way Overte does: one unreliable sequence counter per
// destination, starting at 1, and counts what went out by type.
#pragma once

#include <NLDatagram.h>
#include <SockAddr.h>

#include <QtCore/QHash>

#include <array>
#include <functional>

class UdpTransport;

class PacketSender {
public:
    explicit PacketSender(UdpTransport *transport = nullptr) : _transport(transport) {}

    void setTransport(UdpTransport *transport) { _transport = transport; }
    UdpTransport *transport() const { return _transport; }

    // A way around the transport for some destinations (a TURN relay, set by LimitedNodeList):
    // takes(destination) says whether it carries datagrams for it, send() carries one (its result
    // as writeDatagram's). Such datagrams never get a low TTL: they go to the relay, not the peer.
    struct Detour {
        std::function<bool(const SockAddr &)> takes;
        std::function<qint64(const QByteArray &, const SockAddr &)> send;
    };
    void setDetour(Detour detour) { _detour = std::move(detour); }

    // Stamps the next sequence number for the destination and sends. ttl > 0 sets the IP TTL of
    // this datagram only. Returns false when the transport refused it.
    bool sendPacket(NLDatagram packet, const SockAddr &destination, int ttl = 0);
    // Builds a packet of the type at the table's version around the payload and sends it.
    bool sendPacket(PacketType type, const QByteArray &payload, const SockAddr &destination, int ttl = 0);
    // Sends a packet encoded once and reused, e.g. a server's empty ACK: stamps the destination's
    // next sequence number into its UDT word and sends it as is. The datagram must be the plain
    // form (NLDatagram::plainPayloadOffset() >= 0); anything else is refused (returns false).
    bool sendEncoded(QByteArray &datagram, const SockAddr &destination);

    quint64 sentCount(PacketType type) const { return _sentByType[quint8(type)]; }
    quint64 failedCount() const { return _failed; }

    // Receivers ignore unreliable sequence numbers, so the table only needs to be plausible; it is
    // capped so a server answering many strangers does not grow it without bound.
    static constexpr int MaxTrackedDestinations = 4096;

private:
    quint32 nextSequenceNumber(const SockAddr &destination);
    bool write(const QByteArray &datagram, PacketType type, const SockAddr &destination, int ttl);

    UdpTransport *_transport;
    Detour _detour;
    QHash<SockAddr, quint32> _sequenceNumbers;
    std::array<quint64, 256> _sentByType {};
    quint64 _failed = 0;
};

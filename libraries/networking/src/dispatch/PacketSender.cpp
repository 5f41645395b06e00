#include "PacketSender.h"

#include <NetworkLogging.h>
#include <UdpTransport.h>

bool PacketSender::sendPacket(NLPacket packet, const SockAddr &destination, int ttl) {
    if (!_transport) {
        return false;
    }
    auto it = _sequenceNumbers.find(destination);
    if (it == _sequenceNumbers.end()) {
        if (_sequenceNumbers.size() >= MaxTrackedDestinations) {
            _sequenceNumbers.clear();
        }
        it = _sequenceNumbers.insert(destination, 0);
    }
    *it = (*it + 1) & UdtHeader::SequenceNumberMask;
    packet.udt.sequenceNumber = *it;

    const QByteArray datagram = packet.toDatagram();
    if (_transport->writeDatagram(datagram, destination, ttl) != datagram.size()) {
        ++_failed;
        qCDebug(networking_packets) << "could not send" << packet.type << "to" << destination;
        return false;
    }
    ++_sentByType[quint8(packet.type)];
    qCDebug(networking_packets) << "sent" << packet.type << "to" << destination;
    return true;
}

bool PacketSender::sendPacket(PacketType type, const QByteArray &payload, const SockAddr &destination, int ttl) {
    return sendPacket(NLPacket::create(type, payload), destination, ttl);
}

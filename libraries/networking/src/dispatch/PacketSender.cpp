#include "PacketSender.h"

#include <NetworkLogging.h>
#include <UdpTransport.h>

quint32 PacketSender::nextSequenceNumber(const SockAddr &destination) {
    auto it = _sequenceNumbers.find(destination);
    if (it == _sequenceNumbers.end()) {
        if (_sequenceNumbers.size() >= MaxTrackedDestinations) {
            _sequenceNumbers.clear();
        }
        it = _sequenceNumbers.insert(destination, 0);
    }
    *it = (*it + 1) & UdtHeader::SequenceNumberMask;
    return *it;
}

bool PacketSender::write(const QByteArray &datagram, PacketType type, const SockAddr &destination, int ttl) {
    const bool detoured = _detour.takes && _detour.takes(destination);
    const qint64 sent = detoured ? _detour.send(datagram, destination)
                                 : _transport->writeDatagram(datagram, destination, ttl);
    if (sent != datagram.size()) {
        ++_failed;
        qCDebug(networking_packets) << "could not send" << type << "to" << destination;
        return false;
    }
    ++_sentByType[quint8(type)];
    qCDebug(networking_packets) << "sent" << type << "to" << destination;
    return true;
}

bool PacketSender::sendPacket(NLDatagram packet, const SockAddr &destination, int ttl) {
    if (!_transport) {
        return false;
    }
    packet.udt.sequenceNumber = nextSequenceNumber(destination);
    return write(packet.toDatagram(), packet.type, destination, ttl);
}

bool PacketSender::sendEncoded(QByteArray &datagram, const SockAddr &destination) {
    const PacketType type = datagram.size() > 4 ? PacketType(quint8(datagram.at(4))) : PacketType(0);
    if (!_transport || NLDatagram::plainPayloadOffset(datagram, type) < 0) {
        return false;
    }
    char *word = datagram.data();
    const quint32 flags = qFromLittleEndian<quint32>(word) & ~UdtHeader::SequenceNumberMask;
    qToLittleEndian<quint32>(flags | nextSequenceNumber(destination), word);
    return write(datagram, type, destination, 0);
}

bool PacketSender::sendPacket(PacketType type, const QByteArray &payload, const SockAddr &destination, int ttl) {
    return sendPacket(NLDatagram::create(type, payload), destination, ttl);
}

// One decoded packet as a listener receives it: the NL packet and the address it came from.
// Shared by pointer (as in Overte) so a packet can cross threads without copying the payload.
#pragma once

#include <NLDatagram.h>
#include <SockAddr.h>

#include <QtCore/QSharedPointer>

class ReceivedMessage {
public:
    ReceivedMessage(NLDatagram packet, const SockAddr &sender) : _packet(std::move(packet)), _sender(sender) {}

    PacketType getType() const { return _packet.type; }
    PacketVersion getVersion() const { return _packet.version; }
    // The payload: the bytes after the NL header.
    const QByteArray &getMessage() const { return _packet.payload; }
    int getSize() const { return int(_packet.payload.size()); }
    const SockAddr &getSenderSockAddr() const { return _sender; }
    const NLDatagram &getPacket() const { return _packet; }

private:
    NLDatagram _packet;
    SockAddr _sender;
};

using ReceivedMessagePointer = QSharedPointer<ReceivedMessage>;
Q_DECLARE_METATYPE(ReceivedMessagePointer)

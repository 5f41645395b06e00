// One decoded packet as a listener receives it: the NL packet and the address it came from.
// Shared by pointer (as in Overte) so a packet can cross threads without copying the payload.
// Upstream's readers are here too (read, readPrimitive, readWithoutCopy, seek...): a read
// position over the payload, for listeners written the upstream way.
// The sender is kept as an IpEndpoint (a message is made per datagram); getSenderSockAddr() makes
// upstream's QObject form on first use.
#pragma once

#include "NLPacket.h"

#include <NLDatagram.h>
#include <SockAddr.h>

#include <QtCore/QSharedPointer>

#include <atomic>

// Upstream's node record, the source a sourced listener is handed. The ICE paths carry no node (a
// peer becomes one only after ICE), so the host's Node stays the host's: a SharedNodePointer here is
// always null.
class Node;
using SharedNodePointer = QSharedPointer<Node>;

class ReceivedMessage {
public:
    ReceivedMessage(NLDatagram packet, const IpEndpoint &sender) : _packet(std::move(packet)), _sender(sender) {}
    // Upstream's constructors: from a packet (its written payload) or from parts.
    explicit ReceivedMessage(const NLPacket &packet)
        : _packet(packet.toNLDatagram()), _sender(packet.getSenderSockAddr()) {}
    ReceivedMessage(const QByteArray &byteArray, PacketType packetType, PacketVersion packetVersion,
                    const IpEndpoint &senderSockAddr, NLPacket::LocalID sourceID = NLPacket::NULL_LOCAL_ID);
    // A copy shares nothing: it makes its own SockAddr if asked for one.
    ReceivedMessage(const ReceivedMessage &other)
        : _packet(other._packet), _sender(other._sender), _position(other._position) {}
    ReceivedMessage &operator=(const ReceivedMessage &other);
    ~ReceivedMessage();

    PacketType getType() const { return _packet.type; }
    PacketVersion getVersion() const { return _packet.version; }
    NLPacket::LocalID getSourceID() const { return _packet.sourceID; }
    // The payload: the bytes after the NL header.
    const QByteArray &getMessage() const { return _packet.payload; }
    const char *getRawMessage() const { return _packet.payload.constData(); }
    qint64 getSize() const { return _packet.payload.size(); }
    // Safe to call from several threads at once (listeners of one message may live in different ones).
    const SockAddr &getSenderSockAddr() const;
    const IpEndpoint &getSenderEndpoint() const { return _sender; }
    const NLDatagram &getPacket() const { return _packet; }
    // One datagram is one message here: ICE packets are never split.
    bool isComplete() const { return true; }
    bool failed() const { return false; }
    qint64 getNumPackets() const { return 1; }

    // ---- Reading from a position (upstream's readers; the position is per message) ----
    qint64 getPosition() const { return _position; }
    qint64 getBytesLeftToRead() const { return getSize() - _position; }
    void seek(qint64 position) { _position = qBound<qint64>(0, position, getSize()); }

    qint64 peek(char *data, qint64 size);
    qint64 read(char *data, qint64 size);
    QByteArray peek(qint64 size);
    QByteArray read(qint64 size);
    QByteArray readAll() { return read(getBytesLeftToRead()); }
    // Valid only while this message lives: the bytes are not copied.
    QByteArray readWithoutCopy(qint64 size);
    // uint32 byte count then UTF-8, as NLPacket::writeString writes it.
    QString readString();

    template <typename T> qint64 peekPrimitive(T *data) { return peek(reinterpret_cast<char *>(data), sizeof(T)); }
    template <typename T> qint64 readPrimitive(T *data) { return read(reinterpret_cast<char *>(data), sizeof(T)); }

private:
    NLDatagram _packet;
    IpEndpoint _sender;
    qint64 _position = 0;
    mutable std::atomic<SockAddr *> _senderSockAddr { nullptr };
};

using ReceivedMessagePointer = QSharedPointer<ReceivedMessage>;
Q_DECLARE_METATYPE(ReceivedMessagePointer)

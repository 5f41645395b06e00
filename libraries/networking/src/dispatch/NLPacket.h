// Upstream's packet as callers see it: NLPacket::create() gives a std::unique_ptr<NLPacket>, a
// QIODevice over the payload that is written with write(), writePrimitive() or a QDataStream and
// read the same way. It is a thin layer over NLDatagram, the value our codecs and senders use:
// toNLDatagram() hands the header fields and the written payload to them, fromDatagram() wraps a
// decoded one. No header bytes live here; encoding stays in NLDatagram.
//
// Reads and writes refer to the payload only, as upstream's: pos() 0 is the first payload byte, a
// write past the capacity fails (returns -1) instead of growing the packet.
#pragma once

#include "ExtendedIODevice.h"

#include <NLDatagram.h>
#include <SockAddr.h>

#include <memory>

class NLPacket : public ExtendedIODevice {
    Q_OBJECT
public:
    using LocalID = quint16;
    static const LocalID NULL_LOCAL_ID = 0;
    static const qint64 PACKET_WRITE_ERROR = -1;

    // A packet of the type, with room for size payload bytes (-1: as many as fit a datagram).
    // version 0 means the table's version for the type.
    static std::unique_ptr<NLPacket> create(PacketType type, qint64 size = -1, bool isReliable = false,
                                            bool isPartOfMessage = false, PacketVersion version = 0);
    // Decodes a received datagram; nullptr when it is no well-formed packet of a known type.
    static std::unique_ptr<NLPacket> fromReceivedPacket(std::unique_ptr<char[]> data, qint64 size,
                                                        const SockAddr &senderSockAddr);
    // Wraps a decoded value (what our receive path holds).
    static std::unique_ptr<NLPacket> fromDatagram(const NLDatagram &datagram, const SockAddr &senderSockAddr = {});
    static std::unique_ptr<NLPacket> createCopy(const NLPacket &other);

    static int localHeaderSize(PacketType type) { return NLDatagram::localHeaderSize(type); }
    // UDT and NL headers of an unobfuscated packet.
    static int totalHeaderSize(PacketType type, bool isPartOfMessage = false);
    static int maxPayloadSize(PacketType type, bool isPartOfMessage = false);

    PacketType getType() const { return _header.type; }
    void setType(PacketType type);
    PacketVersion getVersion() const { return _header.version; }
    void setVersion(PacketVersion version) { _header.version = version; }
    LocalID getSourceID() const { return _header.sourceID; }

    bool isReliable() const { return _header.udt.reliable; }
    void setReliable(bool reliable) { _header.udt.reliable = reliable; }
    bool isPartOfMessage() const { return _header.udt.message; }

    // Direct access to the payload bytes (capacity bytes); setPayloadSize() after writing there.
    char *getPayload() { return _payload.data(); }
    const char *getPayload() const { return _payload.constData(); }
    qint64 getPayloadSize() const { return _payloadSize; }
    void setPayloadSize(qint64 payloadSize);
    qint64 getPayloadCapacity() const { return _payload.size(); }
    // Header and payload, as it goes on the wire unobfuscated.
    qint64 getDataSize() const { return _header.totalHeaderSize() + _payloadSize; }
    qint64 bytesLeftToRead() const { return _payloadSize - pos(); }
    qint64 bytesAvailableForWrite() const { return getPayloadCapacity() - pos(); }

    SockAddr &getSenderSockAddr() { return _senderSockAddr; }
    const SockAddr &getSenderSockAddr() const { return _senderSockAddr; }

    // QIODevice over the payload.
    bool isSequential() const override { return false; }
    bool reset() override;
    qint64 size() const override { return getPayloadCapacity(); }

    using QIODevice::read;
    QByteArray read(qint64 maxSize);
    // Valid only while the packet lives: the bytes are not copied.
    QByteArray readWithoutCopy(qint64 maxSize);
    // A QString as upstream writes one: uint32 byte count, then UTF-8.
    qint64 writeString(const QString &string);
    QString readString();

    // The value form: header fields and the written payload.
    NLDatagram toNLDatagram() const;
    QByteArray toDatagram() const { return toNLDatagram().toDatagram(); }

protected:
    qint64 writeData(const char *data, qint64 maxSize) override;
    qint64 readData(char *data, qint64 maxSize) override;

private:
    NLPacket(const NLDatagram &header, qint64 capacity);

    NLDatagram _header;  // every field but the payload
    QByteArray _payload; // capacity bytes; the first _payloadSize are the payload
    qint64 _payloadSize = 0;
    SockAddr _senderSockAddr;
};

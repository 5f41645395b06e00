#include "NLPacket.h"

#include <QtCore/QtEndian>

#include <algorithm>
#include <cstring>

NLPacket::NLPacket(const NLDatagram &header, qint64 capacity) : _header(header) {
    _header.payload.clear();
    _payload = QByteArray(int(std::max<qint64>(capacity, 0)), '\0');
    // Unbuffered: reads and writes go straight to readData()/writeData(), so a read sees every
    // earlier write and pos() is the payload offset.
    open(QIODevice::ReadWrite | QIODevice::Unbuffered);
}

int NLPacket::totalHeaderSize(PacketType type, bool isPartOfMessage) {
    UdtHeader udt;
    udt.message = isPartOfMessage;
    return udt.size() + localHeaderSize(type);
}

int NLPacket::maxPayloadSize(PacketType type, bool isPartOfMessage) {
    return MAX_PACKET_SIZE - totalHeaderSize(type, isPartOfMessage);
}

std::unique_ptr<NLPacket> NLPacket::create(PacketType type, qint64 size, bool isReliable, bool isPartOfMessage,
                                           PacketVersion version) {
    NLDatagram header = NLDatagram::create(type);
    if (version != 0) {
        header.version = version;
    }
    header.udt.reliable = isReliable;
    header.udt.message = isPartOfMessage;
    const qint64 maxSize = maxPayloadSize(type, isPartOfMessage);
    const qint64 capacity = (size < 0 || size > maxSize) ? maxSize : size;
    return std::unique_ptr<NLPacket>(new NLPacket(header, capacity));
}

std::unique_ptr<NLPacket> NLPacket::fromDatagram(const NLDatagram &datagram, const SockAddr &senderSockAddr) {
    std::unique_ptr<NLPacket> packet(new NLPacket(datagram, datagram.payload.size()));
    if (!datagram.payload.isEmpty()) {
        std::memcpy(packet->_payload.data(), datagram.payload.constData(), size_t(datagram.payload.size()));
    }
    packet->_payloadSize = datagram.payload.size();
    packet->_senderSockAddr = senderSockAddr;
    return packet;
}

std::unique_ptr<NLPacket> NLPacket::fromReceivedPacket(std::unique_ptr<char[]> data, qint64 size,
                                                       const SockAddr &senderSockAddr) {
    if (!data || size <= 0 || size > MAX_PACKET_SIZE) {
        return nullptr;
    }
    const Decoded<NLDatagram> decoded = NLDatagram::fromDatagram(QByteArray(data.get(), int(size)));
    if (!decoded.ok()) {
        return nullptr;
    }
    return fromDatagram(decoded.value, senderSockAddr);
}

std::unique_ptr<NLPacket> NLPacket::createCopy(const NLPacket &other) {
    std::unique_ptr<NLPacket> packet(new NLPacket(other._header, other.getPayloadCapacity()));
    packet->_payload = other._payload;
    packet->_payloadSize = other._payloadSize;
    packet->_senderSockAddr = other._senderSockAddr;
    packet->seek(other.pos());
    return packet;
}

void NLPacket::setType(PacketType type) {
    // The header size may change (sourced types carry more); the payload stays as written.
    _header.type = type;
    _header.version = versionForPacketType(type);
    _header.verificationHash = NLDatagram::create(type).verificationHash;
}

void NLPacket::setPayloadSize(qint64 payloadSize) {
    _payloadSize = std::clamp<qint64>(payloadSize, 0, getPayloadCapacity());
}

bool NLPacket::reset() {
    return seek(0);
}

qint64 NLPacket::writeData(const char *data, qint64 maxSize) {
    if (maxSize > bytesAvailableForWrite()) {
        return PACKET_WRITE_ERROR;
    }
    const qint64 at = pos();
    std::memcpy(_payload.data() + at, data, size_t(maxSize));
    _payloadSize = std::max(_payloadSize, at + maxSize);
    return maxSize;
}

qint64 NLPacket::readData(char *data, qint64 maxSize) {
    const qint64 count = std::max<qint64>(0, std::min(bytesLeftToRead(), maxSize));
    std::memcpy(data, _payload.constData() + pos(), size_t(count));
    return count;
}

QByteArray NLPacket::read(qint64 maxSize) {
    const qint64 count = std::max<qint64>(0, std::min(bytesLeftToRead(), maxSize));
    const QByteArray bytes(_payload.constData() + pos(), int(count));
    seek(pos() + count);
    return bytes;
}

QByteArray NLPacket::readWithoutCopy(qint64 maxSize) {
    const qint64 count = std::max<qint64>(0, std::min(bytesLeftToRead(), maxSize));
    const QByteArray bytes = QByteArray::fromRawData(_payload.constData() + pos(), int(count));
    seek(pos() + count);
    return bytes;
}

qint64 NLPacket::writeString(const QString &string) {
    const QByteArray utf8 = string.toUtf8();
    const quint32 length = qToLittleEndian(quint32(utf8.size()));
    if (write(reinterpret_cast<const char *>(&length), sizeof(length)) < 0 || write(utf8) < 0) {
        return PACKET_WRITE_ERROR;
    }
    return qint64(sizeof(length)) + utf8.size();
}

QString NLPacket::readString() {
    quint32 length = 0;
    if (readPrimitive(&length) != qint64(sizeof(length))) {
        return QString();
    }
    return QString::fromUtf8(read(qFromLittleEndian(length)));
}

NLDatagram NLPacket::toNLDatagram() const {
    NLDatagram datagram = _header;
    datagram.payload = _payload.left(int(_payloadSize));
    return datagram;
}

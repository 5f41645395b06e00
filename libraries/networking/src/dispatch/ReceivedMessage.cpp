#include "ReceivedMessage.h"

#include <QtCore/QtEndian>

#include <algorithm>
#include <cstring>

ReceivedMessage::ReceivedMessage(const QByteArray &byteArray, PacketType packetType, PacketVersion packetVersion,
                                 const IpEndpoint &senderSockAddr, NLPacket::LocalID sourceID)
    : _sender(senderSockAddr) {
    _packet.type = packetType;
    _packet.version = packetVersion;
    _packet.sourceID = sourceID;
    _packet.payload = byteArray;
}

ReceivedMessage &ReceivedMessage::operator=(const ReceivedMessage &other) {
    if (this != &other) {
        _packet = other._packet;
        _sender = other._sender;
        _position = other._position;
        delete _senderSockAddr.exchange(nullptr);
    }
    return *this;
}

ReceivedMessage::~ReceivedMessage() {
    delete _senderSockAddr.load();
}

const SockAddr &ReceivedMessage::getSenderSockAddr() const {
    SockAddr *made = _senderSockAddr.load(std::memory_order_acquire);
    if (!made) {
        auto *candidate = new SockAddr(_sender);
        // Whoever loses the race uses the winner's and deletes its own.
        if (_senderSockAddr.compare_exchange_strong(made, candidate, std::memory_order_acq_rel)) {
            made = candidate;
        } else {
            delete candidate;
        }
    }
    return *made;
}

qint64 ReceivedMessage::peek(char *data, qint64 size) {
    const qint64 count = std::max<qint64>(0, std::min(size, getBytesLeftToRead()));
    std::memcpy(data, _packet.payload.constData() + _position, size_t(count));
    return count;
}

qint64 ReceivedMessage::read(char *data, qint64 size) {
    const qint64 count = peek(data, size);
    _position += count;
    return count;
}

QByteArray ReceivedMessage::peek(qint64 size) {
    const qint64 count = std::max<qint64>(0, std::min(size, getBytesLeftToRead()));
    return _packet.payload.mid(int(_position), int(count));
}

QByteArray ReceivedMessage::read(qint64 size) {
    const QByteArray bytes = peek(size);
    _position += bytes.size();
    return bytes;
}

QByteArray ReceivedMessage::readWithoutCopy(qint64 size) {
    const qint64 count = std::max<qint64>(0, std::min(size, getBytesLeftToRead()));
    const QByteArray bytes = QByteArray::fromRawData(_packet.payload.constData() + _position, int(count));
    _position += count;
    return bytes;
}

QString ReceivedMessage::readString() {
    quint32 length = 0;
    if (readPrimitive(&length) != qint64(sizeof(length))) {
        return QString();
    }
    return QString::fromUtf8(read(qFromLittleEndian(length)));
}

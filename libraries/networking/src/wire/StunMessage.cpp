#include "StunMessage.h"

#include <QtCore/QRandomGenerator>

namespace {
constexpr quint8 kFamilyIPv4 = 0x01;
constexpr quint8 kFamilyIPv6 = 0x02;

int padded(int length) {
    return (length + 3) & ~3;
}

// The 16 bytes an IPv6 XOR-MAPPED-ADDRESS is XORed with: magic cookie then transaction ID.
QByteArray xorKey(const QByteArray &transactionId) {
    QByteArray key;
    ByteWriter writer(key);
    writer.writeU32BE(StunMessage::MagicCookie);
    writer.writeBytes(transactionId);
    return key;
}

} // namespace

void StunMessage::encodeAddressAttribute(ByteWriter &out, quint16 attribute, const IpEndpoint &addr,
                                         const QByteArray &transactionId, bool xored) {
    const bool v6 = addr.getAddress().protocol() == QAbstractSocket::IPv6Protocol;
    out.writeU16BE(attribute);
    out.writeU16BE(v6 ? 20 : 8);
    out.writeU8(0);
    out.writeU8(v6 ? kFamilyIPv6 : kFamilyIPv4);
    out.writeU16BE(xored ? quint16(addr.getPort() ^ (StunMessage::MagicCookie >> 16)) : addr.getPort());
    if (v6) {
        const Q_IPV6ADDR raw = addr.getAddress().toIPv6Address();
        const QByteArray key = xorKey(transactionId);
        for (int i = 0; i < 16; ++i) {
            out.writeU8(xored ? quint8(raw.c[i] ^ quint8(key[i])) : raw.c[i]);
        }
    } else {
        const quint32 ip = addr.getAddress().toIPv4Address();
        out.writeU32BE(xored ? ip ^ StunMessage::MagicCookie : ip);
    }
}

IpEndpoint StunMessage::decodeAddressValue(ByteReader &attr, bool xored, const QByteArray &transactionId) {
    attr.readU8(); // reserved
    const quint8 family = attr.readU8();
    quint16 port = attr.readU16BE();
    if (xored) {
        port ^= quint16(StunMessage::MagicCookie >> 16);
    }
    QHostAddress address;
    if (family == kFamilyIPv4) {
        quint32 ip = attr.readU32BE();
        address.setAddress(xored ? ip ^ StunMessage::MagicCookie : ip);
    } else if (family == kFamilyIPv6) {
        const QByteArray raw = attr.readBytes(16);
        if (raw.size() == 16) {
            const QByteArray key = xorKey(transactionId);
            Q_IPV6ADDR v6;
            for (int i = 0; i < 16; ++i) {
                v6.c[i] = xored ? quint8(raw[i] ^ key[i]) : quint8(raw[i]);
            }
            address.setAddress(v6);
        }
    } else {
        attr.fail(WireError::BadAddress);
    }
    return attr.ok() ? IpEndpoint(address, port) : IpEndpoint();
}

StunMessage StunMessage::bindingRequest() {
    StunMessage message;
    message.type = BindingRequest;
    message.transactionId.resize(TransactionIdSize);
    QRandomGenerator::system()->generate(message.transactionId.begin(), message.transactionId.end());
    return message;
}

StunMessage StunMessage::bindingSuccess(const QByteArray &transactionId, const IpEndpoint &observed) {
    StunMessage message;
    message.type = BindingSuccess;
    message.transactionId = transactionId;
    message.xorMappedAddress = observed;
    return message;
}

QByteArray StunMessage::encode() const {
    QByteArray attributes;
    ByteWriter attrWriter(attributes);
    if (!xorMappedAddress.isNull()) {
        encodeAddressAttribute(attrWriter, XorMappedAddress, xorMappedAddress, transactionId, true);
    }
    if (!mappedAddress.isNull()) {
        encodeAddressAttribute(attrWriter, MappedAddress, mappedAddress, transactionId, false);
    }
    QByteArray out;
    out.reserve(HeaderSize + attributes.size());
    ByteWriter writer(out);
    writer.writeU16BE(type & 0x3FFF);
    writer.writeU16BE(quint16(attributes.size()));
    writer.writeU32BE(MagicCookie);
    QByteArray id = transactionId.left(TransactionIdSize);
    id.append(QByteArray(TransactionIdSize - id.size(), '\0'));
    writer.writeBytes(id);
    writer.writeBytes(attributes);
    return out;
}

bool StunMessage::looksLikeStun(const QByteArray &datagram) {
    if (datagram.size() < HeaderSize) {
        return false;
    }
    ByteReader in(datagram);
    const quint16 type = in.readU16BE();
    const quint16 length = in.readU16BE();
    const quint32 cookie = in.readU32BE();
    return (type & 0xC000) == 0 && cookie == MagicCookie && (length & 3) == 0
           && int(length) + HeaderSize == datagram.size();
}

Decoded<StunMessage> StunMessage::decode(const QByteArray &datagram) {
    using Result = Decoded<StunMessage>;
    if (datagram.size() < HeaderSize) {
        return Result::failure(WireError::Truncated);
    }
    if (!looksLikeStun(datagram)) {
        return Result::failure(WireError::NotStun);
    }
    ByteReader in(datagram);
    Result result;
    StunMessage &message = result.value;
    message.type = in.readU16BE();
    in.skip(6); // length and cookie, checked by looksLikeStun()
    message.transactionId = in.readBytes(TransactionIdSize);

    while (in.ok() && !in.atEnd()) {
        const quint16 attrType = in.readU16BE();
        const quint16 attrLength = in.readU16BE();
        if (!in.canRead(std::size_t(padded(attrLength)))) {
            break;
        }
        ByteReader attr(in.current(), attrLength);
        if (attrType == XorMappedAddress || attrType == MappedAddress) {
            const IpEndpoint addr = decodeAddressValue(attr, attrType == XorMappedAddress, message.transactionId);
            if (!attr.ok()) {
                return Result::failure(attr.error());
            }
            (attrType == XorMappedAddress ? message.xorMappedAddress : message.mappedAddress) = addr;
        }
        in.skip(std::size_t(padded(attrLength)));
    }
    if (!in.ok()) {
        return Result::failure(in.error());
    }
    return result;
}

Decoded<IpEndpoint> StunMessage::parseBindingResponse(const QByteArray &datagram,
                                                      const QByteArray &expectedTransactionId) {
    const Decoded<StunMessage> message = decode(datagram);
    if (!message.ok()) {
        return Decoded<IpEndpoint>::failure(message.error);
    }
    if (message.value.type != BindingSuccess) {
        return Decoded<IpEndpoint>::failure(WireError::NotStun);
    }
    if (message.value.transactionId != expectedTransactionId) {
        return Decoded<IpEndpoint>::failure(WireError::StunTransactionMismatch);
    }
    const IpEndpoint mapped = message.value.mappedSocket();
    if (mapped.isNull()) {
        return Decoded<IpEndpoint>::failure(WireError::StunNoMappedAddress);
    }
    Decoded<IpEndpoint> result;
    result.value = mapped;
    return result;
}

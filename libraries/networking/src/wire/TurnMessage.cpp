#include "TurnMessage.h"

#include "StunMessage.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QMessageAuthenticationCode>
#include <QtCore/QRandomGenerator>

#include <array>

namespace {

constexpr int kHeader = StunMessage::HeaderSize;

int padded(int length) {
    return (length + 3) & ~3;
}

void writeAttribute(ByteWriter &out, quint16 type, const QByteArray &value) {
    // A datagram cannot hold more; callers bound their payloads long before this.
    const QByteArray bounded = value.left(0xFFFF);
    out.writeU16BE(type);
    out.writeU16BE(quint16(bounded.size()));
    out.writeBytes(bounded);
    out.writeBytes(QByteArray(padded(bounded.size()) - bounded.size(), '\0'));
}

void writeU32Attribute(ByteWriter &out, quint16 type, quint32 value) {
    out.writeU16BE(type);
    out.writeU16BE(4);
    out.writeU32BE(value);
}

void setLength(QByteArray &message, int length) {
    message[2] = char(quint8(length >> 8));
    message[3] = char(quint8(length));
}

// Where the first attribute of this type starts (its header), walking the attribute list as a
// decoder does; -1 when absent or when the walk runs off the datagram first.
int findAttribute(const QByteArray &datagram, quint16 wanted) {
    ByteReader in(datagram);
    if (!in.skip(kHeader)) {
        return -1;
    }
    while (!in.atEnd()) {
        const int position = int(in.position());
        const quint16 type = in.readU16BE();
        const quint16 length = in.readU16BE();
        if (!in.ok()) {
            return -1;
        }
        if (type == wanted) {
            return in.canRead(length) ? position : -1;
        }
        if (!in.skip(std::size_t(padded(length)))) {
            return -1;
        }
    }
    return -1;
}

QByteArray hmacSha1(const QByteArray &key, const QByteArray &message) {
    return QMessageAuthenticationCode::hash(message, key, QCryptographicHash::Sha1);
}

// Compares without an early exit, so the time taken says nothing about where a forgery differs.
bool sameBytes(const QByteArray &a, const QByteArray &b) {
    if (a.size() != b.size()) {
        return false;
    }
    quint8 difference = 0;
    for (int i = 0; i < a.size(); ++i) {
        difference |= quint8(a[i] ^ b[i]);
    }
    return difference == 0;
}

const std::array<quint32, 256> &crcTable() {
    static const std::array<quint32, 256> table = [] {
        std::array<quint32, 256> t {};
        for (quint32 i = 0; i < 256; ++i) {
            quint32 c = i;
            for (int k = 0; k < 8; ++k) {
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            t[i] = c;
        }
        return t;
    }();
    return table;
}

} // namespace

quint32 TurnMessage::crc32(const char *data, int size) {
    const auto &table = crcTable();
    quint32 crc = 0xFFFFFFFFu;
    for (int i = 0; i < size; ++i) {
        crc = table[(crc ^ quint8(data[i])) & 0xFF] ^ (crc >> 8);
    }
    return crc ^ 0xFFFFFFFFu;
}

TurnMessage TurnMessage::create(Method method, Class messageClass) {
    TurnMessage message;
    message.method = method;
    message.messageClass = messageClass;
    message.transactionId.resize(StunMessage::TransactionIdSize);
    QRandomGenerator::system()->generate(message.transactionId.begin(), message.transactionId.end());
    return message;
}

quint16 TurnMessage::composeType(quint16 method, Class messageClass) {
    return quint16((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) | messageClass);
}

quint16 TurnMessage::methodOf(quint16 type) {
    return quint16((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
}

QByteArray TurnMessage::encode(const QByteArray &integrityKey, bool withFingerprint) const {
    QByteArray attributes;
    ByteWriter out(attributes);
    if (!software.isEmpty()) {
        writeAttribute(out, SoftwareAttribute, software);
    }
    for (const auto &other : otherAttributes) {
        writeAttribute(out, other.first, other.second);
    }
    if (!username.isEmpty()) {
        writeAttribute(out, UsernameAttribute, username);
    }
    if (!nonce.isEmpty()) {
        writeAttribute(out, NonceAttribute, nonce);
    }
    if (!realm.isEmpty()) {
        writeAttribute(out, RealmAttribute, realm);
    }
    if (errorCode != 0) {
        QByteArray value;
        ByteWriter v(value);
        v.writeU16BE(0);
        v.writeU8(quint8(errorCode / 100));
        v.writeU8(quint8(errorCode % 100));
        v.writeBytes(errorReason);
        writeAttribute(out, ErrorCodeAttribute, value);
    }
    if (requestedTransport) {
        writeU32Attribute(out, RequestedTransportAttribute, quint32(*requestedTransport) << 24);
    }
    if (lifetime) {
        writeU32Attribute(out, LifetimeAttribute, *lifetime);
    }
    if (channelNumber) {
        writeU32Attribute(out, ChannelNumberAttribute, quint32(*channelNumber) << 16);
    }
    for (const IpEndpoint &peer : peerAddresses) {
        StunMessage::encodeAddressAttribute(out, XorPeerAddressAttribute, peer, transactionId, true);
    }
    if (!relayedAddress.isNull()) {
        StunMessage::encodeAddressAttribute(out, XorRelayedAddressAttribute, relayedAddress, transactionId, true);
    }
    if (!mappedAddress.isNull()) {
        StunMessage::encodeAddressAttribute(out, XorMappedAddressAttribute, mappedAddress, transactionId, true);
    }
    if (data) {
        writeAttribute(out, DataAttribute, *data);
    }

    QByteArray message;
    message.reserve(kHeader + attributes.size() + 32);
    ByteWriter header(message);
    header.writeU16BE(type() & 0x3FFF);
    header.writeU16BE(0); // set below, once the trailers are known
    header.writeU32BE(StunMessage::MagicCookie);
    QByteArray id = transactionId.left(StunMessage::TransactionIdSize);
    id.append(QByteArray(StunMessage::TransactionIdSize - id.size(), '\0'));
    header.writeBytes(id);
    header.writeBytes(attributes);

    // Each trailer is computed with the length field already counting it (RFC 8489 14.5, 14.7).
    if (!integrityKey.isEmpty()) {
        setLength(message, message.size() - kHeader + 4 + IntegritySize);
        const QByteArray mac = hmacSha1(integrityKey, message);
        header.writeU16BE(MessageIntegrityAttribute);
        header.writeU16BE(IntegritySize);
        header.writeBytes(mac);
    }
    if (withFingerprint) {
        setLength(message, message.size() - kHeader + 8);
        const quint32 crc = crc32(message.constData(), message.size()) ^ FingerprintXor;
        writeU32Attribute(header, FingerprintAttribute, crc);
    }
    setLength(message, message.size() - kHeader);
    return message;
}

Decoded<TurnMessage> TurnMessage::decode(const QByteArray &datagram) {
    using Result = Decoded<TurnMessage>;
    if (datagram.size() < kHeader) {
        return Result::failure(WireError::Truncated);
    }
    if (!StunMessage::looksLikeStun(datagram)) {
        return Result::failure(WireError::NotStun);
    }
    ByteReader in(datagram);
    Result result;
    TurnMessage &m = result.value;
    const quint16 type = in.readU16BE();
    m.method = methodOf(type);
    m.messageClass = classOf(type);
    in.skip(6); // length and cookie, checked by looksLikeStun()
    m.transactionId = in.readBytes(StunMessage::TransactionIdSize);

    // Single-valued attributes: the first occurrence counts (RFC 8489 14).
    bool seenError = false;
    bool seenRelayed = false;
    bool seenMapped = false;
    while (in.ok() && !in.atEnd() && !m.hasFingerprint) {
        const quint16 attrType = in.readU16BE();
        const quint16 attrLength = in.readU16BE();
        if (!in.canRead(std::size_t(padded(attrLength)))) {
            break;
        }
        const QByteArray value(in.current(), attrLength);
        ByteReader attr(value);
        in.skip(std::size_t(padded(attrLength)));

        const auto fixedSize = [&](int size) {
            if (attrLength != size) {
                attr.fail(WireError::BadValue);
            }
            return attr.ok();
        };
        if (attrType == FingerprintAttribute) {
            m.hasFingerprint = fixedSize(4);
        } else if (m.hasIntegrity) {
            continue; // only FINGERPRINT may follow MESSAGE-INTEGRITY
        } else if (attrType == MessageIntegrityAttribute) {
            m.hasIntegrity = fixedSize(IntegritySize);
        } else if (attrType == SoftwareAttribute) {
            m.software = m.software.isEmpty() ? value : m.software;
        } else if (attrType == UsernameAttribute) {
            m.username = m.username.isEmpty() ? value : m.username;
        } else if (attrType == RealmAttribute) {
            m.realm = m.realm.isEmpty() ? value : m.realm;
        } else if (attrType == NonceAttribute) {
            m.nonce = m.nonce.isEmpty() ? value : m.nonce;
        } else if (attrType == ErrorCodeAttribute) {
            attr.readU16BE(); // reserved
            const int errorClass = attr.readU8() & 0x07;
            const int number = attr.readU8();
            if (attr.ok() && (errorClass < 3 || errorClass > 6 || number > 99)) {
                attr.fail(WireError::BadValue);
            }
            if (attr.ok() && !seenError) {
                seenError = true;
                m.errorCode = errorClass * 100 + number;
                m.errorReason = value.mid(4);
            }
        } else if (attrType == RequestedTransportAttribute) {
            if (fixedSize(4) && !m.requestedTransport) {
                m.requestedTransport = quint8(attr.readU32BE() >> 24);
            }
        } else if (attrType == LifetimeAttribute) {
            if (fixedSize(4) && !m.lifetime) {
                m.lifetime = attr.readU32BE();
            }
        } else if (attrType == ChannelNumberAttribute) {
            if (fixedSize(4) && !m.channelNumber) {
                m.channelNumber = quint16(attr.readU32BE() >> 16);
            }
        } else if (attrType == XorPeerAddressAttribute || attrType == XorRelayedAddressAttribute
                   || attrType == XorMappedAddressAttribute) {
            const IpEndpoint address = StunMessage::decodeAddressValue(attr, true, m.transactionId);
            if (!attr.ok()) {
                // handled below
            } else if (attrType == XorPeerAddressAttribute) {
                m.peerAddresses.append(address);
            } else if (attrType == XorRelayedAddressAttribute && !seenRelayed) {
                seenRelayed = true;
                m.relayedAddress = address;
            } else if (attrType == XorMappedAddressAttribute && !seenMapped) {
                seenMapped = true;
                m.mappedAddress = address;
            }
        } else if (attrType == DataAttribute) {
            if (!m.data) {
                m.data = value;
            }
        } else {
            m.otherAttributes.append({ attrType, value });
        }
        if (!attr.ok()) {
            return Result::failure(attr.error());
        }
    }
    if (!in.ok()) {
        return Result::failure(in.error());
    }
    return result;
}

QByteArray TurnMessage::longTermKey(const QByteArray &username, const QByteArray &realm, const QByteArray &password) {
    return QCryptographicHash::hash(username + ':' + realm + ':' + password, QCryptographicHash::Md5);
}

bool TurnMessage::checkIntegrity(const QByteArray &datagram, const QByteArray &key) {
    if (!StunMessage::looksLikeStun(datagram)) {
        return false;
    }
    const int position = findAttribute(datagram, MessageIntegrityAttribute);
    if (position < 0 || datagram.size() < position + 4 + IntegritySize
        || datagram.mid(position + 2, 2) != QByteArray::fromHex("0014")) {
        return false;
    }
    QByteArray covered = datagram.left(position);
    setLength(covered, position - kHeader + 4 + IntegritySize);
    return sameBytes(hmacSha1(key, covered), datagram.mid(position + 4, IntegritySize));
}

bool TurnMessage::checkFingerprint(const QByteArray &datagram) {
    if (!StunMessage::looksLikeStun(datagram)) {
        return false;
    }
    const int position = findAttribute(datagram, FingerprintAttribute);
    // FINGERPRINT is the last attribute, always 4 bytes.
    if (position < 0 || position + 8 != datagram.size()
        || datagram.mid(position + 2, 2) != QByteArray::fromHex("0004")) {
        return false;
    }
    ByteReader value(datagram.constData() + position + 4, 4);
    return (crc32(datagram.constData(), position) ^ FingerprintXor) == value.readU32BE();
}

QByteArray ChannelData::encode() const {
    const QByteArray bounded = payload.left(0xFFFF);
    QByteArray out;
    out.reserve(HeaderSize + padded(bounded.size()));
    ByteWriter writer(out);
    writer.writeU16BE(channel);
    writer.writeU16BE(quint16(bounded.size()));
    writer.writeBytes(bounded);
    writer.writeBytes(QByteArray(padded(bounded.size()) - bounded.size(), '\0'));
    return out;
}

Decoded<ChannelData> ChannelData::decode(const QByteArray &datagram) {
    using Result = Decoded<ChannelData>;
    ByteReader in(datagram);
    Result result;
    result.value.channel = in.readU16BE();
    const quint16 length = in.readU16BE();
    if (!in.ok()) {
        return Result::failure(in.error());
    }
    if (!isValidChannel(result.value.channel)) {
        return Result::failure(WireError::BadValue);
    }
    result.value.payload = in.readBytes(length);
    if (!in.ok()) {
        return Result::failure(in.error());
    }
    if (in.remaining() > 3) {
        return Result::failure(WireError::TrailingBytes);
    }
    return result;
}

TurnFraming turnFraming(const QByteArray &datagram) {
    if (datagram.isEmpty()) {
        return TurnFraming::Other;
    }
    const quint8 first = quint8(datagram[0]);
    if (first <= 0x3F) {
        return TurnFraming::Stun;
    }
    return first <= 0x4F ? TurnFraming::ChannelData : TurnFraming::Other;
}

#include "IcePackets.h"

namespace {
template <typename T> Decoded<T> finish(const ByteReader &in, T &&value) {
    if (!in.ok()) {
        return Decoded<T>::failure(in.error());
    }
    if (!in.atEnd()) {
        return Decoded<T>::failure(WireError::TrailingBytes);
    }
    Decoded<T> result;
    result.value = std::move(value);
    return result;
}
} // namespace

QByteArray IceServerHeartbeat::signedPlaintext(const QUuid &domainID, const IpEndpoint &publicSocket,
                                               const IpEndpoint &localSocket) {
    QByteArray out;
    ByteWriter writer(out);
    encodeUuid(writer, domainID);
    publicSocket.encode(writer);
    localSocket.encode(writer);
    return out;
}

QByteArray IceServerHeartbeat::toPayload() const {
    QByteArray out = signedPlaintext(domainID, publicSocket, localSocket);
    ByteWriter writer(out);
    // QByteArray on a QDataStream: u32 length then bytes; a null array is 0xFFFFFFFF.
    if (signature.isNull()) {
        writer.writeU32BE(0xFFFFFFFFu);
    } else {
        writer.writeU32BE(quint32(signature.size()));
        writer.writeBytes(signature);
    }
    return out;
}

Decoded<IceServerHeartbeat> IceServerHeartbeat::fromPayload(const QByteArray &payload) {
    ByteReader in(payload);
    IceServerHeartbeat hb;
    hb.domainID = decodeUuid(in);
    hb.publicSocket = IpEndpoint::decode(in);
    hb.localSocket = IpEndpoint::decode(in);
    if (in.ok()) {
        hb.plaintext = payload.left(int(in.position()));
    }
    const quint32 length = in.readU32BE();
    if (in.ok() && length != 0xFFFFFFFFu) {
        if (length > MaxSignatureBytes) {
            in.fail(WireError::Oversized);
        } else {
            hb.signature = in.readBytes(length);
        }
    }
    return finish(in, std::move(hb));
}

QUuid IceServerHeartbeat::peekDomainID(const QByteArray &payload) {
    if (payload.size() < 16) {
        return QUuid();
    }
    return QUuid::fromRfc4122(QByteArray::fromRawData(payload.constData(), 16));
}

QByteArray IceServerQuery::toPayload() const {
    QByteArray out;
    ByteWriter writer(out);
    encodeUuid(writer, clientID);
    publicSocket.encode(writer);
    localSocket.encode(writer);
    encodeUuid(writer, domainID);
    return out;
}

Decoded<IceServerQuery> IceServerQuery::fromPayload(const QByteArray &payload) {
    ByteReader in(payload);
    IceServerQuery query;
    query.clientID = decodeUuid(in);
    query.publicSocket = IpEndpoint::decode(in);
    query.localSocket = IpEndpoint::decode(in);
    query.domainID = decodeUuid(in);
    return finish(in, std::move(query));
}

IceServerQuery::Scanned IceServerQuery::scan(const QByteArray &payload) {
    ByteReader in(payload);
    Scanned result;
    in.skip(16);
    IpEndpoint::skip(in);
    IpEndpoint::skip(in);
    result.recordSize = int(in.position());
    result.domainID = decodeUuid(in);
    if (!in.ok()) {
        result.error = in.error();
    } else if (!in.atEnd()) {
        result.error = WireError::TrailingBytes;
    }
    return result;
}

QByteArray IcePing::toPayload() const {
    QByteArray out = senderID.toRfc4122();
    out.append(char(pingType));
    return out;
}

Decoded<IcePing> IcePing::fromPayload(const QByteArray &payload) {
    ByteReader in(payload);
    IcePing ping;
    ping.senderID = decodeUuid(in);
    const quint8 type = in.readU8();
    if (in.ok() && type > quint8(PingType::Symmetric)) {
        in.fail(WireError::BadValue);
    }
    ping.pingType = PingType(type);
    return finish(in, std::move(ping));
}

WireError checkEmptyPayload(const QByteArray &payload) {
    return payload.isEmpty() ? WireError::NoError : WireError::TrailingBytes;
}

QDebug operator<<(QDebug debug, PingType type) {
    static const char *const names[] = { "Agnostic", "Local", "Public", "Symmetric" };
    QDebugStateSaver saver(debug);
    if (quint8(type) <= quint8(PingType::Symmetric)) {
        debug.nospace() << names[quint8(type)];
    } else {
        debug.nospace() << "PingType(" << int(type) << ')';
    }
    return debug;
}

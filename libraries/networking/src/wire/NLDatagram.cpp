#include "NLDatagram.h"

NLDatagram NLDatagram::create(PacketType type, const QByteArray &payload) {
    NLDatagram packet;
    packet.type = type;
    packet.version = versionForPacketType(type);
    packet.payload = payload;
    if (isSourcedPacketType(type) && isVerifiedPacketType(type)) {
        packet.verificationHash = QByteArray(NUM_BYTES_MD5_HASH, '\0');
    }
    return packet;
}

int NLDatagram::localHeaderSize(PacketType type) {
    const bool sourced = isSourcedPacketType(type);
    const bool verified = isVerifiedPacketType(type);
    return 2 + (sourced ? NUM_BYTES_LOCALID : 0) + (sourced && verified ? NUM_BYTES_MD5_HASH : 0);
}

QByteArray NLDatagram::toDatagram() const {
    QByteArray out;
    out.reserve(totalHeaderSize() + payload.size());
    ByteWriter writer(out);
    udt.encode(writer);
    const int udtSize = out.size();
    writer.writeU8(quint8(type));
    writer.writeU8(version);
    if (isSourcedPacketType(type)) {
        writer.writeU16LE(sourceID);
        if (isVerifiedPacketType(type)) {
            QByteArray hash = verificationHash.left(NUM_BYTES_MD5_HASH);
            hash.append(QByteArray(NUM_BYTES_MD5_HASH - hash.size(), '\0'));
            writer.writeBytes(hash);
        }
    }
    writer.writeBytes(payload);
    applyObfuscation(out, udtSize, udt.obfuscationLevel);
    return out;
}

Decoded<NLDatagram> NLDatagram::fromDatagram(const QByteArray &datagram) {
    using Result = Decoded<NLDatagram>;
    if (datagram.size() > MAX_PACKET_SIZE) {
        return Result::failure(WireError::Oversized);
    }
    ByteReader headerReader(datagram);
    const Decoded<UdtHeader> udt = UdtHeader::decode(headerReader);
    if (!udt.ok()) {
        return Result::failure(udt.error);
    }

    // The copy shares the datagram's buffer (implicit sharing) until de-obfuscation writes to it,
    // which only an obfuscated packet does; the payload is copied out of it below.
    QByteArray plain = datagram;
    applyObfuscation(plain, udt.value.size(), udt.value.obfuscationLevel);

    ByteReader in(plain);
    in.skip(std::size_t(udt.value.size()));
    Result result;
    NLDatagram &packet = result.value;
    packet.udt = udt.value;
    const quint8 typeByte = in.readU8();
    packet.version = in.readU8();
    if (!in.ok()) {
        return Result::failure(in.error());
    }
    packet.type = PacketType(typeByte);
    if (!isKnownPacketType(typeByte)) {
        result.error = WireError::UnknownType;
        return result;
    }
    if (isSourcedPacketType(packet.type)) {
        packet.sourceID = in.readU16LE();
        if (isVerifiedPacketType(packet.type)) {
            packet.verificationHash = in.readBytes(NUM_BYTES_MD5_HASH);
        }
        if (!in.ok()) {
            return Result::failure(in.error());
        }
    }
    packet.payload = plain.mid(int(in.position()));
    return result;
}

int NLDatagram::plainPayloadOffset(const QByteArray &datagram, PacketType type) {
    constexpr int offset = 4 + 2; // one UDT word, type and version
    if (isSourcedPacketType(type) || datagram.size() < offset || datagram.size() > MAX_PACKET_SIZE) {
        return -1;
    }
    const char *data = datagram.constData();
    const quint32 word = qFromLittleEndian<quint32>(data);
    if (word & (UdtHeader::ControlBitMask | UdtHeader::MessageBitMask | UdtHeader::ObfuscationMask)) {
        return -1;
    }
    if (!isKnownPacketType(quint8(type)) || quint8(data[4]) != quint8(type)
        || quint8(data[5]) != versionForPacketType(type)) {
        return -1;
    }
    return offset;
}

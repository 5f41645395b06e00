#include "ClusterRecord.h"

namespace {

bool failWith(QString *why, const QString &text) {
    if (why) {
        *why = text;
    }
    return false;
}

} // namespace

QByteArray ClusterRecord::encodeData() const {
    QByteArray out;
    out.reserve(40);
    ByteWriter writer(out);
    writer.writeU8(kFormat);
    publicSocket.encode(writer);
    localSocket.encode(writer);
    const QByteArray fingerprint = keyFingerprint.left(kMaxFingerprint);
    writer.writeU8(quint8(fingerprint.size()));
    writer.writeBytes(fingerprint);
    writer.writeU32BE(quint32(quint64(publishedAtMs) >> 32));
    writer.writeU32BE(quint32(quint64(publishedAtMs)));
    return out;
}

bool ClusterRecord::decodeData(const QByteArray &data, QString *why) {
    ByteReader reader(data);
    const quint8 format = reader.readU8();
    if (!reader.ok()) {
        return failWith(why, QStringLiteral("empty record"));
    }
    if (format != kFormat) {
        return failWith(why, QStringLiteral("record format %1, this node reads %2").arg(format).arg(kFormat));
    }
    const IpEndpoint publicSock = IpEndpoint::decode(reader);
    const IpEndpoint localSock = IpEndpoint::decode(reader);
    const quint8 fingerprintSize = reader.readU8();
    if (reader.ok() && fingerprintSize > kMaxFingerprint) {
        return failWith(why, QStringLiteral("key fingerprint of %1 bytes").arg(fingerprintSize));
    }
    const QByteArray fingerprint = reader.readBytes(fingerprintSize);
    const quint64 high = reader.readU32BE();
    const quint64 low = reader.readU32BE();
    if (!reader.ok()) {
        return failWith(why, QStringLiteral("truncated or malformed record"));
    }
    if (!reader.atEnd()) {
        return failWith(why, QStringLiteral("%1 unexpected bytes after the record").arg(reader.remaining()));
    }
    publicSocket = publicSock;
    localSocket = localSock;
    keyFingerprint = fingerprint;
    publishedAtMs = qint64((high << 32) | low);
    return true;
}

QByteArray ClusterMessage::encode() const {
    QByteArray out;
    ByteWriter writer(out);
    const QByteArray node = fromNode.toUtf8().left(kMaxNodeId);
    writer.writeU8(kFormat);
    writer.writeU8(quint8(node.size()));
    writer.writeBytes(node);
    writer.writeBytes(payload);
    return out;
}

bool ClusterMessage::decode(const QByteArray &bytes, QString *why) {
    ByteReader reader(bytes);
    const quint8 format = reader.readU8();
    const quint8 nodeSize = reader.readU8();
    const QByteArray node = reader.readBytes(nodeSize);
    if (!reader.ok()) {
        return failWith(why, QStringLiteral("truncated message"));
    }
    if (format != kFormat) {
        return failWith(why, QStringLiteral("message format %1, this node reads %2").arg(format).arg(kFormat));
    }
    if (node.isEmpty()) {
        return failWith(why, QStringLiteral("message without a sender"));
    }
    if (reader.remaining() > std::size_t(kMaxPayload)) {
        return failWith(why, QStringLiteral("payload of %1 bytes").arg(reader.remaining()));
    }
    fromNode = QString::fromUtf8(node);
    payload = QByteArray(reader.current(), int(reader.remaining()));
    return true;
}

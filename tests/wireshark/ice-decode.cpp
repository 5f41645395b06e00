// ice-decode: decodes UDP payloads with Icebreaker's own codecs and prints, per datagram, the fields
// the Wireshark dissector (tools/wireshark/icebreaker.lua) should show, named and formatted as
// `tshark -T json` prints them. tshark_compare.py compares the two, field by field.
//
// Input (stdin or a file): `tshark -T fields -e frame.number -e udp.payload` lines, "NUMBER<TAB>HEX".
// Output: a JSON array of { "frame": N, "stun": bool, "fields": {name: value}, "expert": [names] }.
// The layout walk (which fields exist for which datagram) follows the dissector's documented
// behaviour; every value comes from UdtHeader, NLDatagram, IcePackets, NetworkPeer and SockAddr.

#include <IcePackets.h>
#include <NLDatagram.h>
#include <StunMessage.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTextStream>

#include <cstdio>

namespace {

constexpr quint32 kNullLength = 0xFFFFFFFFu;

QString errorToken(WireError error) {
    switch (error) {
    case WireError::Truncated: return QStringLiteral("truncated");
    case WireError::TrailingBytes: return QStringLiteral("trailing_bytes");
    case WireError::Oversized: return QStringLiteral("oversized");
    case WireError::ControlPacket: return QStringLiteral("control_packet");
    case WireError::UnknownType: return QStringLiteral("unknown_type");
    case WireError::VersionMismatch: return QStringLiteral("version_mismatch");
    case WireError::BadAddress: return QStringLiteral("bad_address");
    case WireError::BadValue: return QStringLiteral("bad_value");
    default: return QStringLiteral("other:%1").arg(wireErrorString(error));
    }
}

QString hexBytes(const QByteArray &bytes) {
    return QString::fromLatin1(bytes.toHex(':'));
}
QString number(quint64 value) {
    return QString::number(value);
}
QString uuidText(const QUuid &id) {
    return id.toString(QUuid::WithoutBraces);
}

const char *const kPingTypeNames[] = { "Agnostic", "Local", "Public", "Symmetric" };

class Decoder {
public:
    QJsonObject fields;
    QStringList expert;

    void decode(const QByteArray &datagram);

private:
    void set(const QString &name, const QString &value) { fields.insert(name, value); }
    // A datagram we cannot read past some point: the reason, and the rest as raw bytes.
    void fail(WireError error, const QByteArray &bytes, int offset, const char *expertName) {
        set(QStringLiteral("icebreaker.error"), errorToken(error));
        expert << QString::fromLatin1(expertName);
        rest(bytes, offset);
    }
    void rest(const QByteArray &bytes, int offset) {
        if (offset < bytes.size()) {
            set(QStringLiteral("icebreaker.payload"), hexBytes(bytes.mid(offset)));
        }
    }
    void socket(const QString &role, const SockAddr &addr);
    void payload(PacketType type, const QByteArray &payload);
};

void Decoder::socket(const QString &role, const SockAddr &addr) {
    const QString p = QStringLiteral("icebreaker.") + role + QLatin1Char('.');
    const QHostAddress &address = addr.getAddress();
    QString host;
    switch (address.protocol()) {
    case QAbstractSocket::IPv4Protocol:
        set(p + QStringLiteral("family"), QStringLiteral("0"));
        set(p + QStringLiteral("ipv4"), address.toString());
        host = address.toString();
        break;
    case QAbstractSocket::IPv6Protocol: {
        set(p + QStringLiteral("family"), QStringLiteral("1"));
        QHostAddress bare(address);
        bare.setScopeId(QString());
        set(p + QStringLiteral("ipv6"), bare.toString());
        host = bare.toString();
        const QString scope = address.scopeId();
        set(p + QStringLiteral("scope_length"),
            scope.isNull() ? number(kNullLength) : number(quint64(scope.size()) * 2));
        if (!scope.isNull()) {
            set(p + QStringLiteral("scope"), scope);
            if (!scope.isEmpty()) {
                host += QLatin1Char('%') + scope;
            }
        }
        host = QLatin1Char('[') + host + QLatin1Char(']');
        break;
    }
    case QAbstractSocket::AnyIPProtocol:
        set(p + QStringLiteral("family"), QStringLiteral("2"));
        host = QStringLiteral("any");
        break;
    default:
        set(p + QStringLiteral("family"), QStringLiteral("255"));
        host = QStringLiteral("null");
        break;
    }
    set(p + QStringLiteral("port"), number(addr.getPort()));
    set(p + QStringLiteral("addr"), host + QLatin1Char(':') + number(addr.getPort()));
}

void Decoder::payload(PacketType type, const QByteArray &bytes) {
    WireError error = WireError::NoError;
    switch (type) {
    case PacketType::ICEServerHeartbeat: {
        const auto hb = IceServerHeartbeat::fromPayload(bytes);
        if (!(error = hb.error, hb.ok())) {
            break;
        }
        set(QStringLiteral("icebreaker.domain_id"), uuidText(hb.value.domainID));
        socket(QStringLiteral("public"), hb.value.publicSocket);
        socket(QStringLiteral("local"), hb.value.localSocket);
        set(QStringLiteral("icebreaker.heartbeat.signed_data"), hexBytes(hb.value.plaintext));
        set(QStringLiteral("icebreaker.heartbeat.signed_length"), number(quint64(hb.value.plaintext.size())));
        set(QStringLiteral("icebreaker.heartbeat.signature_length"),
            hb.value.signature.isNull() ? number(kNullLength) : number(quint64(hb.value.signature.size())));
        if (!hb.value.signature.isEmpty()) {
            set(QStringLiteral("icebreaker.heartbeat.signature"), hexBytes(hb.value.signature));
        }
        return;
    }
    case PacketType::ICEServerQuery: {
        const auto query = IceServerQuery::fromPayload(bytes);
        if (!(error = query.error, query.ok())) {
            break;
        }
        set(QStringLiteral("icebreaker.client_id"), uuidText(query.value.clientID));
        socket(QStringLiteral("public"), query.value.publicSocket);
        socket(QStringLiteral("local"), query.value.localSocket);
        set(QStringLiteral("icebreaker.domain_id"), uuidText(query.value.domainID));
        return;
    }
    case PacketType::ICEServerPeerInformation: {
        const auto peer = NetworkPeer::fromByteArray(bytes);
        if (!(error = peer.error, peer.ok())) {
            break;
        }
        set(QStringLiteral("icebreaker.peer_id"), uuidText(peer.value.getUUID()));
        socket(QStringLiteral("public"), peer.value.getPublicSocket());
        socket(QStringLiteral("local"), peer.value.getLocalSocket());
        return;
    }
    case PacketType::ICEPing:
    case PacketType::ICEPingReply: {
        const auto ping = IcePing::fromPayload(bytes);
        if (!(error = ping.error, ping.ok())) {
            break;
        }
        set(QStringLiteral("icebreaker.ping.id"), uuidText(ping.value.senderID));
        set(QStringLiteral("icebreaker.ping.type"), number(quint8(ping.value.pingType)));
        set(QStringLiteral("icebreaker.ping.type_name"),
            QString::fromLatin1(kPingTypeNames[quint8(ping.value.pingType)]));
        return;
    }
    case PacketType::ICEServerHeartbeatACK:
    case PacketType::ICEServerHeartbeatDenied:
        error = checkEmptyPayload(bytes);
        if (error == WireError::NoError) {
            return;
        }
        break;
    default:
        // A type of the table that ICE does not use: named, not decoded.
        rest(bytes, 0);
        return;
    }
    fail(error, bytes, 0, "icebreaker.malformed");
}

void Decoder::decode(const QByteArray &datagram) {
    if (datagram.size() > MAX_PACKET_SIZE) {
        fail(WireError::Oversized, datagram, 0, "icebreaker.malformed");
        return;
    }
    ByteReader reader(datagram);
    const Decoded<UdtHeader> udt = UdtHeader::decode(reader);
    if (datagram.size() < 4) {
        fail(WireError::Truncated, datagram, 0, "icebreaker.malformed");
        return;
    }
    const quint32 word = qFromLittleEndian<quint32>(datagram.constData());
    set(QStringLiteral("icebreaker.udt.word"), QStringLiteral("0x%1").arg(word, 8, 16, QLatin1Char('0')));
    set(QStringLiteral("icebreaker.udt.control"),
        udt.error == WireError::ControlPacket ? QStringLiteral("1") : QStringLiteral("0"));
    if (udt.error == WireError::ControlPacket) {
        fail(WireError::ControlPacket, datagram, 4, "icebreaker.control");
        return;
    }
    if (!udt.ok()) {
        // The message words are cut short; the first word's bits are still shown.
        set(QStringLiteral("icebreaker.udt.reliable"), number((word & UdtHeader::ReliableBitMask) != 0));
        set(QStringLiteral("icebreaker.udt.message"), number((word & UdtHeader::MessageBitMask) != 0));
        set(QStringLiteral("icebreaker.udt.obfuscation"),
            number((word & UdtHeader::ObfuscationMask) >> UdtHeader::ObfuscationShift));
        set(QStringLiteral("icebreaker.udt.seq"), number(word & UdtHeader::SequenceNumberMask));
        fail(udt.error, datagram, 4, "icebreaker.malformed");
        return;
    }
    const UdtHeader &h = udt.value;
    set(QStringLiteral("icebreaker.udt.reliable"), number(h.reliable));
    set(QStringLiteral("icebreaker.udt.message"), number(h.message));
    set(QStringLiteral("icebreaker.udt.obfuscation"), number(h.obfuscationLevel));
    set(QStringLiteral("icebreaker.udt.seq"), number(h.sequenceNumber));
    if (h.message) {
        set(QStringLiteral("icebreaker.udt.msg_position"), number(quint8(h.messagePosition)));
        set(QStringLiteral("icebreaker.udt.msg_number"), number(h.messageNumber));
        set(QStringLiteral("icebreaker.udt.msg_part"), number(h.messagePartNumber));
    }
    if (h.obfuscationLevel != 0) {
        expert << QStringLiteral("icebreaker.obfuscated");
    }

    QByteArray plain = datagram;
    applyObfuscation(plain, h.size(), h.obfuscationLevel);
    const int nlStart = h.size();

    const Decoded<NLDatagram> packet = NLDatagram::fromDatagram(datagram);
    if (plain.size() < nlStart + 2) {
        fail(packet.error, plain, nlStart, "icebreaker.malformed");
        return;
    }
    const quint8 typeByte = quint8(plain[nlStart]);
    set(QStringLiteral("icebreaker.type"), number(typeByte));
    set(QStringLiteral("icebreaker.version"), number(quint8(plain[nlStart + 1])));
    if (packet.error == WireError::UnknownType) {
        fail(WireError::UnknownType, plain, nlStart + 2, "icebreaker.unknown_type");
        return;
    }
    const PacketType type = PacketType(typeByte);
    set(QStringLiteral("icebreaker.type_name"), QString::fromLatin1(packetTypeName(type)));
    set(QStringLiteral("icebreaker.expected_version"), number(versionForPacketType(type)));
    set(QStringLiteral("icebreaker.header_size"), number(NLDatagram::localHeaderSize(type)));
    if (!packet.ok()) {
        // Only a sourced header cut short gets here.
        fail(packet.error, plain, nlStart + 2, "icebreaker.malformed");
        return;
    }
    const NLDatagram &p = packet.value;
    if (isSourcedPacketType(type)) {
        set(QStringLiteral("icebreaker.source_id"), number(p.sourceID));
        if (isVerifiedPacketType(type)) {
            set(QStringLiteral("icebreaker.hmac"), hexBytes(p.verificationHash));
        }
    }
    if (!p.versionMatches()) {
        fail(WireError::VersionMismatch, p.payload, 0, "icebreaker.version_mismatch");
        return;
    }
    payload(type, p.payload);
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QFile input;
    const QStringList args = app.arguments();
    if (args.size() > 2 || (args.size() == 2 && args[1].startsWith(QLatin1Char('-')))) {
        std::fprintf(stderr, "usage: ice-decode [FILE]   (lines \"FRAME<TAB>HEX\"; stdin when no FILE)\n");
        return 1;
    }
    const bool fromFile = args.size() == 2;
    if (fromFile) {
        input.setFileName(args[1]);
    }
    if (!(fromFile ? input.open(QIODevice::ReadOnly | QIODevice::Text)
                   : input.open(stdin, QIODevice::ReadOnly | QIODevice::Text))) {
        std::fprintf(stderr, "ice-decode: cannot read %s: %s\n",
                     qPrintable(fromFile ? args[1] : QStringLiteral("stdin")), qPrintable(input.errorString()));
        return 1;
    }
    QJsonArray out;
    QTextStream lines(&input);
    int lineNumber = 0;
    QString line;
    while (lines.readLineInto(&line)) {
        ++lineNumber;
        if (line.trimmed().isEmpty()) {
            continue;
        }
        const QStringList parts = line.split(QLatin1Char('\t'));
        bool ok = false;
        const int frame = parts.value(0).toInt(&ok);
        if (!ok || parts.size() != 2) {
            std::fprintf(stderr, "ice-decode: line %d is not \"FRAME<TAB>HEX\"\n", lineNumber);
            return 1;
        }
        const QByteArray datagram = QByteArray::fromHex(parts[1].toLatin1().replace(':', ""));
        QJsonObject entry;
        entry.insert(QStringLiteral("frame"), frame);
        // What the dissector hands to Wireshark's STUN dissector: a STUN message by our codec's rule,
        // or anything with STUN's first two bits and magic cookie (a broken STUN message is still STUN).
        const bool stun = StunMessage::looksLikeStun(datagram)
                          || (datagram.size() >= 20 && (quint8(datagram[0]) & 0xC0) == 0
                              && qFromBigEndian<quint32>(datagram.constData() + 4) == StunMessage::MagicCookie);
        entry.insert(QStringLiteral("stun"), stun);
        if (!stun) {
            Decoder decoder;
            decoder.decode(datagram);
            entry.insert(QStringLiteral("fields"), decoder.fields);
            entry.insert(QStringLiteral("expert"), QJsonArray::fromStringList(decoder.expert));
        }
        out.append(entry);
    }
    std::fputs(QJsonDocument(out).toJson(QJsonDocument::Indented).constData(), stdout);
    return 0;
}

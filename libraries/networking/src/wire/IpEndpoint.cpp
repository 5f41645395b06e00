#include "IpEndpoint.h"

#include <QtNetwork/QHostInfo>

namespace {
// QHostAddress's stream protocol byte (QAbstractSocket::NetworkLayerProtocol as qint8).
constexpr quint8 kIPv4 = 0;
constexpr quint8 kIPv6 = 1;
constexpr quint8 kAnyIP = 2;
constexpr quint8 kUnknown = 0xFF;
constexpr quint32 kNullString = 0xFFFFFFFFu;
// Scope ids are interface names or numbers; anything longer is not an address we will use.
constexpr quint32 kMaxScopeIdBytes = 64;
} // namespace

const char *socketTypeToString(SocketType type) {
    switch (type) {
    case SocketType::UDP: return "UDP";
    case SocketType::WebRTC: return "WebRTC";
    case SocketType::Unknown: break;
    }
    return "Unknown";
}

IpEndpoint::IpEndpoint(SocketType socketType, const QString &hostname, quint16 hostOrderPort, bool shouldBlockForLookup)
    : _port(hostOrderPort), _socketType(socketType) {
    if (_address.setAddress(hostname)) {
        return;
    }
    _address.clear();
    if (!shouldBlockForLookup) {
        return;
    }
    const QHostInfo info = QHostInfo::fromName(hostname);
    for (const QHostAddress &candidate : info.addresses()) {
        if (candidate.protocol() == QAbstractSocket::IPv4Protocol) {
            _address = candidate;
            return;
        }
    }
}

QString IpEndpoint::toString() const {
    if (_address.isNull()) {
        return QStringLiteral("null:%1").arg(_port);
    }
    if (_address.protocol() == QAbstractSocket::IPv6Protocol) {
        return QStringLiteral("[%1]:%2").arg(_address.toString()).arg(_port);
    }
    return QStringLiteral("%1:%2").arg(_address.toString()).arg(_port);
}

void IpEndpoint::encode(ByteWriter &out) const {
    switch (_address.protocol()) {
    case QAbstractSocket::IPv4Protocol:
        out.writeU8(kIPv4);
        out.writeU32BE(_address.toIPv4Address());
        break;
    case QAbstractSocket::IPv6Protocol: {
        out.writeU8(kIPv6);
        const Q_IPV6ADDR v6 = _address.toIPv6Address();
        out.writeBytes(reinterpret_cast<const char *>(v6.c), 16);
        const QString scope = _address.scopeId();
        if (scope.isNull()) {
            out.writeU32BE(kNullString);
        } else {
            // QString on a QDataStream: byte length, then UTF-16 big-endian code units.
            out.writeU32BE(quint32(scope.size() * 2));
            for (const QChar c : scope) {
                out.writeU16BE(c.unicode());
            }
        }
        break;
    }
    case QAbstractSocket::AnyIPProtocol: out.writeU8(kAnyIP); break;
    default: out.writeU8(kUnknown); break;
    }
    out.writeU16BE(_port);
}

IpEndpoint IpEndpoint::decode(ByteReader &in) {
    IpEndpoint result;
    const quint8 protocol = in.readU8();
    switch (protocol) {
    case kIPv4: result._address.setAddress(in.readU32BE()); break;
    case kIPv6: {
        Q_IPV6ADDR v6;
        const QByteArray raw = in.readBytes(16);
        if (raw.size() != 16) {
            break;
        }
        memcpy(v6.c, raw.constData(), 16);
        QHostAddress address(v6);
        const quint32 scopeBytes = in.readU32BE();
        if (scopeBytes != kNullString) {
            if (scopeBytes > kMaxScopeIdBytes || (scopeBytes & 1)) {
                in.fail(scopeBytes > in.remaining() ? WireError::Truncated : WireError::BadAddress);
                break;
            }
            QString scope(QLatin1String("")); // length 0 is an empty, not a null, scope id (as Qt reads it)
            for (quint32 i = 0; i < scopeBytes / 2; ++i) {
                scope.append(QChar(in.readU16BE()));
            }
            address.setScopeId(scope);
        }
        result._address = address;
        break;
    }
    case kAnyIP: result._address = QHostAddress(QHostAddress::Any); break;
    case kUnknown: break;
    default: in.fail(WireError::BadAddress); break;
    }
    result._port = in.readU16BE();
    if (!in.ok()) {
        return IpEndpoint();
    }
    return result;
}

bool IpEndpoint::skip(ByteReader &in) {
    // Mirrors decode() step for step, so the two agree on every input (tests hold them to it).
    switch (in.readU8()) {
    case kIPv4: in.skip(4); break;
    case kIPv6: {
        if (!in.skip(16)) {
            break;
        }
        const quint32 scopeBytes = in.readU32BE();
        if (scopeBytes != kNullString) {
            if (scopeBytes > kMaxScopeIdBytes || (scopeBytes & 1)) {
                in.fail(scopeBytes > in.remaining() ? WireError::Truncated : WireError::BadAddress);
                break;
            }
            in.skip(scopeBytes);
        }
        break;
    }
    case kAnyIP:
    case kUnknown: break;
    default: in.fail(WireError::BadAddress); break;
    }
    in.skip(2); // the port
    return in.ok();
}

#if QT_VERSION >= QT_VERSION_CHECK(6, 0, 0)
size_t qHash(const IpEndpoint &addr, size_t seed) noexcept
#else
uint qHash(const IpEndpoint &addr, uint seed) noexcept
#endif
{
    return qHash(addr.getAddress(), seed) ^ qHash(addr.getPort(), seed);
}

QDataStream &operator<<(QDataStream &out, const IpEndpoint &addr) {
    out << addr.getAddress() << addr.getPort();
    return out;
}

QDataStream &operator>>(QDataStream &in, IpEndpoint &addr) {
    QHostAddress address;
    quint16 port = 0;
    in >> address >> port;
    addr = IpEndpoint(address, port);
    return in;
}

QDebug operator<<(QDebug debug, const IpEndpoint &addr) {
    QDebugStateSaver saver(debug);
    debug.noquote().nospace() << addr.toString();
    return debug;
}

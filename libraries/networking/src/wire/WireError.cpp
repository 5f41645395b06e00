#include "WireError.h"

QString wireErrorString(WireError error) {
    switch (error) {
    case WireError::NoError: return QStringLiteral("no error");
    case WireError::Truncated: return QStringLiteral("datagram ends before a field does");
    case WireError::TrailingBytes: return QStringLiteral("unexpected bytes after the payload");
    case WireError::Oversized: return QStringLiteral("length exceeds what a datagram can hold");
    case WireError::ControlPacket: return QStringLiteral("UDT control packet");
    case WireError::UnknownType: return QStringLiteral("unknown packet type");
    case WireError::VersionMismatch: return QStringLiteral("packet version mismatch");
    case WireError::BadAddress: return QStringLiteral("unknown address protocol");
    case WireError::BadValue: return QStringLiteral("field value out of range");
    case WireError::NotStun: return QStringLiteral("not a STUN binding message");
    case WireError::StunTransactionMismatch: return QStringLiteral("STUN transaction ID does not match a request");
    case WireError::StunNoMappedAddress: return QStringLiteral("STUN response has no usable mapped address");
    }
    return QStringLiteral("unknown error");
}

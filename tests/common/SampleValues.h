// The sample IDs and sockets of the protocol document's worked examples (section 2.5), defined once
// for every suite: the wire goldens, the client and domain component suites. Addresses are from the
// documentation ranges (RFC 5737) and private ranges, so nothing here can reach a real host.
#pragma once

#include <SockAddr.h>

#include <QtCore/QUuid>

namespace samples {

inline QUuid clientID() {
    return QUuid(QStringLiteral("{11223344-5566-7788-99aa-bbccddeeff00}"));
}
inline QUuid domainID() {
    return QUuid(QStringLiteral("{6ba7b810-9dad-11d1-80b4-00c04fd430c8}"));
}
inline SockAddr clientPublic() {
    return SockAddr(QHostAddress(QStringLiteral("203.0.113.5")), 40102);
}
inline SockAddr clientLocal() {
    return SockAddr(QHostAddress(QStringLiteral("192.168.1.10")), 40102);
}
inline SockAddr domainPublic() {
    return SockAddr(QHostAddress(QStringLiteral("198.51.100.7")), 40102);
}
inline SockAddr domainLocal() {
    return SockAddr(QHostAddress(QStringLiteral("10.0.0.2")), 40102);
}
inline SockAddr iceServer() {
    return SockAddr(QHostAddress(QStringLiteral("192.0.2.1")), 7337);
}

} // namespace samples

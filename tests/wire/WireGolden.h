// The worked examples of docs/protocol.md section 2.5 as values and as golden datagrams,
// shared by the wire suites and the fuzzer's seed corpus. The hex is copied from the document,
// never produced by the code under test.
#pragma once

#include <SampleValues.h>
#include <SockAddr.h>
#include <WireError.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QUuid>

namespace golden {

// An IP literal and a port as a SockAddr.
inline SockAddr addr(const char *ip, quint16 port) {
    return SockAddr(QHostAddress(QString::fromLatin1(ip)), port);
}

// The error's name for QVERIFY2 messages (valid until the next call).
inline const char *errorName(WireError e) {
    static QByteArray text;
    text = wireErrorString(e).toUtf8();
    return text.constData();
}

inline QByteArray hex(const char *text) {
    return QByteArray::fromHex(QByteArray(text)); // fromHex skips the spaces
}

using samples::clientID;
using samples::clientLocal;
using samples::clientPublic;
using samples::domainID;
using samples::domainLocal;
using samples::domainPublic;

// A stand-in for an RSA-2048 signature: 256 bytes counting 00, 01, ... ff.
inline QByteArray signature256() {
    QByteArray sig(256, '\0');
    for (int i = 0; i < sig.size(); ++i) {
        sig[i] = char(i);
    }
    return sig;
}

inline QByteArray query() {
    return hex("01 00 00 00  17 11"
               "11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00"
               "00 cb 00 71 05 9c a6"
               "00 c0 a8 01 0a 9c a6"
               "6b a7 b8 10 9d ad 11 d1 80 b4 00 c0 4f d4 30 c8");
}
inline QByteArray ping() {
    return hex("03 00 00 00  27 12  11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00  02");
}
inline QByteArray pingReply() {
    return hex("01 00 00 00  28 11  6b a7 b8 10 9d ad 11 d1 80 b4 00 c0 4f d4 30 c8  02");
}
inline QByteArray peerInformation() {
    return hex("01 00 00 00  16 11  6b a7 b8 10 9d ad 11 d1 80 b4 00 c0 4f d4 30 c8"
               "00 c6 33 64 07 9c a6   00 0a 00 00 02 9c a6");
}
// Header, the 30 signed bytes, the BE length 256 and signature256().
inline QByteArray heartbeat() {
    return hex("01 00 00 00  26 12"
               "6b a7 b8 10 9d ad 11 d1 80 b4 00 c0 4f d4 30 c8"
               "00 c6 33 64 07 9c a6"
               "00 0a 00 00 02 9c a6"
               "00 00 01 00")
           + signature256();
}
inline QByteArray heartbeatAck() {
    return hex("01 00 00 00 3f 11");
}
inline QByteArray heartbeatDenied() {
    return hex("01 00 00 00 3c 11");
}

struct NamedDatagram {
    const char *name;
    QByteArray bytes;
};

// Every worked example of section 2.5 plus IPv6 and null-address variants of the record types.
inline QList<NamedDatagram> iceDatagrams() {
    return {
        { "ICEServerQuery", query() },
        { "ICEPing", ping() },
        { "ICEPingReply", pingReply() },
        { "ICEServerPeerInformation", peerInformation() },
        { "ICEServerHeartbeat", heartbeat() },
        { "ICEServerHeartbeatACK", heartbeatAck() },
        { "ICEServerHeartbeatDenied", heartbeatDenied() },
        { "ICEServerQuery ipv6+scope", hex("01 00 00 00  17 11"
                                           "11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00"
                                           "01 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 ff ff ff ff 9c a6"
                                           "01 fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02 00 00 00 08"
                                           "00 65 00 74 00 68 00 30 9c a6"
                                           "6b a7 b8 10 9d ad 11 d1 80 b4 00 c0 4f d4 30 c8") },
        { "ICEServerPeerInformation null", hex("01 00 00 00  16 11  6b a7 b8 10 9d ad 11 d1 80 b4 00 c0 4f d4 30 c8"
                                               "ff 00 00   ff 9c a6") },
        { "ICEServerHeartbeat null-signature", hex("01 00 00 00  26 12"
                                                   "6b a7 b8 10 9d ad 11 d1 80 b4 00 c0 4f d4 30 c8"
                                                   "ff 00 00  00 0a 00 00 02 9c a6  ff ff ff ff") },
    };
}

} // namespace golden

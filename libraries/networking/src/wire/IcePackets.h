// The payloads of the seven ICE packet types, each a value with its own encode and decode.
// Payload means the bytes after the 6-byte header (NLDatagram). Byte layouts and worked examples:
// docs/protocol.md sections 2.5 and 3.
//
//   ICEServerHeartbeat (38 v18)  QUuid domain | IpEndpoint public | IpEndpoint local | QByteArray signature
//                                 \_________________ signed plaintext _________/
//   ICEServerQuery     (23 v17)  QUuid client | IpEndpoint public | IpEndpoint local | QUuid domain
//   ICEServerPeerInformation (22 v17)  NetworkPeer (QUuid | IpEndpoint public | IpEndpoint local)
//   ICEPing (39 v18), ICEPingReply (40 v17)  16 raw ID bytes | u8 ping type
//   ICEServerHeartbeatACK (63 v17), ICEServerHeartbeatDenied (60 v17)  empty
#pragma once

#include "NetworkPeer.h"

// Upstream spells a ping type as PingType_t (a byte) with constants PingType::Agnostic...: an
// unscoped enum in its own namespace gives callers both spellings (PingType::Local converts to
// PingType_t) while our own code keeps a named type. The enumerators stay out of the global scope.
using PingType_t = quint8;
namespace PingTypes {
enum PingType : quint8 { Agnostic = 0, Local = 1, Public = 2, Symmetric = 3 };
}
using PingTypes::PingType;

struct IceServerHeartbeat {
    QUuid domainID;
    IpEndpoint publicSocket;
    IpEndpoint localSocket;
    QByteArray signature;
    // On decode: the exact received bytes the signature covers (never re-encoded, so a verify
    // checks what the sender signed). On encode it is computed by signedPlaintext().
    QByteArray plaintext;

    // The bytes a domain signs: the encoded ID and both sockets.
    static QByteArray signedPlaintext(const QUuid &domainID, const IpEndpoint &publicSocket,
                                      const IpEndpoint &localSocket);

    // A signature longer than this cannot fit a datagram; decode rejects it as Oversized.
    static constexpr quint32 MaxSignatureBytes = 1024;

    QByteArray toPayload() const;
    static Decoded<IceServerHeartbeat> fromPayload(const QByteArray &payload);
    // The domain ID from the first 16 bytes without decoding the rest (null when shorter): enough
    // to find the domain's record before deciding whether a full decode is needed.
    static QUuid peekDomainID(const QByteArray &payload);
};

struct IceServerQuery {
    QUuid clientID;
    IpEndpoint publicSocket;
    IpEndpoint localSocket;
    QUuid domainID;

    QByteArray toPayload() const;
    static Decoded<IceServerQuery> fromPayload(const QByteArray &payload);

    // The layout check of fromPayload() (same verdict, same error) without building addresses.
    // On success, the first recordSize bytes ("client | public | local") are byte-identical to
    // NetworkPeer(clientID, publicSocket, localSocket).toByteArray() of the decoded query, so a
    // server can forward them as the querier's ICEServerPeerInformation instead of re-encoding.
    struct Scanned {
        WireError error = WireError::NoError;
        int recordSize = 0;
        QUuid domainID;
    };
    static Scanned scan(const QByteArray &payload);
};

// ICEPing and ICEPingReply share one layout: the sender's own ID and the ping type.
struct IcePing {
    QUuid senderID;
    PingType pingType = PingType::Agnostic;

    static constexpr int PayloadSize = 17;

    QByteArray toPayload() const;
    static Decoded<IcePing> fromPayload(const QByteArray &payload);
};
using IcePingReply = IcePing;

// ACK and Denied carry nothing; anything in their payload is malformed.
WireError checkEmptyPayload(const QByteArray &payload);

QDebug operator<<(QDebug debug, PingType type);

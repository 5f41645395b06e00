// The one table of packet types Icebreaker speaks: Overte's numbers, versions and header flags.
// The enum, the version check, the header-size rule and the debug names are all generated from
// ICEBREAKER_PACKET_TYPES, so a type is added or changed in exactly one place.
// Source: docs/protocol.md section 1 ("Packet types and versions").
#pragma once

#include <QtCore/QDebug>
#include <QtCore/QtGlobal>

using PacketVersion = quint8;

//   X(name,                         number, version, sourced, verified)
// "sourced" packets carry a 2-byte local node ID; sourced and verified ones also a 16-byte HMAC.
#define ICEBREAKER_PACKET_TYPES(X)                      \
    X(DomainConnectRequestPending, 1, 17, false, true)  \
    X(DomainList, 2, 25, false, true)                   \
    X(DomainListRequest, 13, 23, true, false)           \
    X(DomainConnectionDenied, 16, 19, false, true)      \
    X(ICEServerPeerInformation, 22, 17, false, true)    \
    X(ICEServerQuery, 23, 17, false, true)              \
    X(DomainConnectRequest, 31, 27, false, true)        \
    X(ICEServerHeartbeat, 38, 18, false, true)          \
    X(ICEPing, 39, 18, false, true)                     \
    X(ICEPingReply, 40, 17, false, true)                \
    X(DomainServerConnectionToken, 46, 22, false, true) \
    X(ICEServerHeartbeatDenied, 60, 17, false, true)    \
    X(ICEServerHeartbeatACK, 63, 17, false, true)

// Spelled as upstream spells it (PacketTypeEnum::Value, PacketType::Unknown), so Overte callers
// compile unchanged. Unknown (0) is no wire type: it is outside the table.
struct PacketTypeEnum {
    enum class Value : quint8 {
        Unknown = 0,
#define ICEBREAKER_PACKET_ENUM(name, number, version, sourced, verified) name = number,
        ICEBREAKER_PACKET_TYPES(ICEBREAKER_PACKET_ENUM)
#undef ICEBREAKER_PACKET_ENUM
    };
};
using PacketType = PacketTypeEnum::Value;

// Header field sizes (Overte's NLPacket constants).
constexpr int NUM_BYTES_LOCALID = 2;
constexpr int NUM_BYTES_MD5_HASH = 16;

// How many types the table lists (for per-type counters).
constexpr int packetTypeTableSize() {
    int n = 0;
#define ICEBREAKER_PACKET_COUNT(name, number, version, sourced, verified) ++n;
    ICEBREAKER_PACKET_TYPES(ICEBREAKER_PACKET_COUNT)
#undef ICEBREAKER_PACKET_COUNT
    return n;
}

// True when the byte names a type in the table.
bool isKnownPacketType(quint8 typeByte);
// The exact version Overte expects for the type; 0 for a type outside the table.
PacketVersion versionForPacketType(PacketType type);
bool isSourcedPacketType(PacketType type);
bool isVerifiedPacketType(PacketType type);
// Overte's name for the type, or nullptr outside the table.
const char *packetTypeName(PacketType type);
// The types of the table in table order.
const PacketType *allPacketTypes();

QDebug operator<<(QDebug debug, PacketType type);

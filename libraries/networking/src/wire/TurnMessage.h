// TURN (RFC 8656) messages on the STUN framing of StunMessage (RFC 8489): the methods a relay client
// needs, the attributes they carry, MESSAGE-INTEGRITY with long-term credentials and FINGERPRINT;
// plus ChannelData, TURN's 4-byte framing for bound channels.
//
//   STUN type (14 bits): method M11..M0 interleaved with class C1 C0
//   |0 0|M11 M10 M9 M8 M7|C1|M6 M5 M4|C0|M3 M2 M1 M0|
//
//   ChannelData:
//   |   channel number 0x4000-0x4FFF  |          length            |
//   |  application data (length bytes), padded to 4 over UDP ...   |
//
// A receiver tells them apart by the first byte (RFC 7983): 0x00-0x3F STUN/TURN, 0x40-0x4F ChannelData.
#pragma once

#include "IpEndpoint.h"
#include "WireError.h"

#include <QtCore/QList>
#include <QtCore/QPair>

#include <optional>

class TurnMessage {
public:
    enum Method : quint16 {
        Binding = 0x001,
        Allocate = 0x003,
        Refresh = 0x004,
        Send = 0x006,
        Data = 0x007,
        CreatePermission = 0x008,
        ChannelBind = 0x009,
    };
    enum Class : quint16 { Request = 0x0000, Indication = 0x0010, SuccessResponse = 0x0100, ErrorResponse = 0x0110 };
    enum Attribute : quint16 {
        UsernameAttribute = 0x0006,
        MessageIntegrityAttribute = 0x0008,
        ErrorCodeAttribute = 0x0009,
        ChannelNumberAttribute = 0x000C,
        LifetimeAttribute = 0x000D,
        XorPeerAddressAttribute = 0x0012,
        DataAttribute = 0x0013,
        RealmAttribute = 0x0014,
        NonceAttribute = 0x0015,
        XorRelayedAddressAttribute = 0x0016,
        RequestedTransportAttribute = 0x0019,
        XorMappedAddressAttribute = 0x0020,
        SoftwareAttribute = 0x8022,
        FingerprintAttribute = 0x8028,
    };
    // Error codes the client acts on (RFC 8489 14.8, RFC 8656 18).
    enum ErrorCode {
        Unauthenticated = 401,
        Forbidden = 403,
        AllocationMismatch = 437,
        StaleNonce = 438,
        WrongCredentials = 441,
        UnsupportedTransport = 442,
        AllocationQuotaReached = 486,
        InsufficientCapacity = 508,
    };

    static constexpr quint8 TransportUdp = 17; // REQUESTED-TRANSPORT value: IANA protocol number
    static constexpr quint32 FingerprintXor = 0x5354554eu;
    static constexpr int IntegritySize = 20; // HMAC-SHA1

    quint16 method = Binding;
    Class messageClass = Request;
    QByteArray transactionId; // 12 bytes

    // Attributes. An empty string or null address means "absent"; the order of peerAddresses is kept.
    QByteArray software;
    QByteArray username; // UTF-8
    QByteArray realm;
    QByteArray nonce;
    int errorCode = 0; // 300-699, 0 when absent
    QByteArray errorReason;
    std::optional<quint8> requestedTransport;
    std::optional<quint32> lifetime; // seconds
    std::optional<quint16> channelNumber;
    QList<IpEndpoint> peerAddresses; // XOR-PEER-ADDRESS, one or more
    IpEndpoint relayedAddress;       // XOR-RELAYED-ADDRESS
    IpEndpoint mappedAddress;        // XOR-MAPPED-ADDRESS
    std::optional<QByteArray> data;  // DATA (may be present and empty)
    // Attributes we do not interpret, kept in order so a message re-encodes faithfully. They are
    // written right after SOFTWARE (where RFC 5769's sample request has its ICE attributes).
    QList<QPair<quint16, QByteArray>> otherAttributes;

    // Set by decode(): the message carried these trailers (checked with the static helpers below).
    bool hasIntegrity = false;
    bool hasFingerprint = false;

    // A message of this method and class with a fresh random transaction ID.
    static TurnMessage create(Method method, Class messageClass = Request);

    quint16 type() const { return composeType(method, messageClass); }
    static quint16 composeType(quint16 method, Class messageClass);
    static quint16 methodOf(quint16 type);
    static Class classOf(quint16 type) { return Class(type & 0x0110); }

    // Encodes every present attribute, then MESSAGE-INTEGRITY when integrityKey is non-empty, then
    // FINGERPRINT when asked. Padding bytes are zero.
    QByteArray encode(const QByteArray &integrityKey = QByteArray(), bool withFingerprint = false) const;
    // Any STUN-framed message (see StunMessage::looksLikeStun). Attributes after MESSAGE-INTEGRITY
    // other than FINGERPRINT, and anything after FINGERPRINT, are ignored as RFC 8489 14.5 asks.
    static Decoded<TurnMessage> decode(const QByteArray &datagram);

    // The long-term credential key: MD5(username ":" realm ":" password), all UTF-8. The password
    // is used as given: SASLprep leaves ASCII unchanged, and callers with other passwords pass the
    // prepared form (as RFC 5769 2.4 does).
    static QByteArray longTermKey(const QByteArray &username, const QByteArray &realm, const QByteArray &password);
    // True when the datagram's MESSAGE-INTEGRITY is the HMAC-SHA1 under key of the bytes before it
    // (with the length field covering it, RFC 8489 14.5); false when absent or wrong.
    static bool checkIntegrity(const QByteArray &datagram, const QByteArray &key);
    // True when the datagram ends in a FINGERPRINT that matches CRC-32 of the bytes before it ^ 0x5354554e.
    static bool checkFingerprint(const QByteArray &datagram);
    static quint32 crc32(const char *data, int size);
};

// One ChannelData frame (RFC 8656 12.4).
struct ChannelData {
    static constexpr quint16 FirstChannel = 0x4000;
    static constexpr quint16 LastChannel = 0x4FFF;
    static constexpr int HeaderSize = 4;

    quint16 channel = FirstChannel;
    QByteArray payload;

    static bool isValidChannel(quint16 number) { return number >= FirstChannel && number <= LastChannel; }
    // Header, payload and zero padding to a multiple of 4 (RFC 8656 12.5 asks for it over TCP and
    // allows it over UDP; padding keeps one framing for both).
    QByteArray encode() const;
    // Accepts an unpadded or padded frame; more than 3 bytes after the payload is TrailingBytes, a
    // channel outside 0x4000-0x4FFF BadValue, a length past the end Truncated.
    static Decoded<ChannelData> decode(const QByteArray &datagram);
};

// How a datagram from a TURN server is framed, by its first byte (RFC 7983 / RFC 8656 12).
enum class TurnFraming { Stun, ChannelData, Other };
TurnFraming turnFraming(const QByteArray &datagram);

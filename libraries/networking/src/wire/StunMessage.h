// A STUN binding message (RFC 5389 / RFC 8489), the part of STUN that ICE needs: a binding request,
// its success response with XOR-MAPPED-ADDRESS (IPv4 and IPv6) and the classic MAPPED-ADDRESS.
//
//   0                   1                   2                   3
//   |0 0|  message type (14)        |      message length (16)      |
//   |                 magic cookie 0x2112A442                       |
//   |                 transaction ID (96 bits)                      |
//   | attribute type (16)           | attribute length (16)         | value, padded to 4 bytes ...
//
// Unlike upstream (docs/protocol.md section 6) the decoder checks the header, honours
// attribute padding and the caller checks the transaction ID.
#pragma once

#include "IpEndpoint.h"
#include "WireError.h"

class StunMessage {
public:
    enum MessageType : quint16 { BindingRequest = 0x0001, BindingSuccess = 0x0101, BindingError = 0x0111 };
    enum Attribute : quint16 { MappedAddress = 0x0001, XorMappedAddress = 0x0020, Software = 0x8022 };

    static constexpr quint32 MagicCookie = 0x2112A442u;
    static constexpr int HeaderSize = 20;
    static constexpr int TransactionIdSize = 12;

    quint16 type = BindingRequest;
    QByteArray transactionId;    // 12 bytes
    IpEndpoint xorMappedAddress; // decoded (un-XORed) value, null when absent
    IpEndpoint mappedAddress;    // null when absent

    // A binding request with a fresh random transaction ID.
    static StunMessage bindingRequest();
    // A success response telling the requester where it was seen from.
    static StunMessage bindingSuccess(const QByteArray &transactionId, const IpEndpoint &observed);

    // The address to use: XOR-MAPPED-ADDRESS when present, else MAPPED-ADDRESS.
    IpEndpoint mappedSocket() const { return xorMappedAddress.isNull() ? mappedAddress : xorMappedAddress; }

    QByteArray encode() const;
    static Decoded<StunMessage> decode(const QByteArray &datagram);

    // Cheap test that a datagram is STUN and not an Overte packet: top two bits clear, magic cookie,
    // and a length that matches the datagram. An ICE datagram carries its type byte where STUN
    // has 0x21, a type Overte does not use.
    static bool looksLikeStun(const QByteArray &datagram);

    // Decodes a binding success response for the given request and returns the mapped socket.
    static Decoded<IpEndpoint> parseBindingResponse(const QByteArray &datagram,
                                                    const QByteArray &expectedTransactionId);

    // The address attribute codec, shared with TurnMessage (XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS):
    // writes one whole attribute (header and value), or reads one value already cut to its length.
    static void encodeAddressAttribute(ByteWriter &out, quint16 attribute, const IpEndpoint &addr,
                                       const QByteArray &transactionId, bool xored);
    static IpEndpoint decodeAddressValue(ByteReader &value, bool xored, const QByteArray &transactionId);
};

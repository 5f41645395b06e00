// A whole Overte datagram as a value: UDT header, NL header and payload, decoded or to be encoded.
//
//   | UDT header (4 or 12) | type:u8 | version:u8 | [source ID:u16 LE] | [HMAC-MD5:16] | payload |
//
// The source ID is present for sourced types, the hash for sourced *and* verified types (the
// header-size rule of Overte's NLPacket::localHeaderSize). Every ICE type is non-sourced, so ICE
// packets have a 6-byte header. Source: docs/protocol.md 2.2.
#pragma once

#include "PacketHeaders.h"
#include "UdtHeader.h"

#include <QtCore/QByteArray>

// Overte's udt::MAX_PACKET_SIZE: the largest UDP payload any peer sends (1420 - 28).
constexpr int MAX_PACKET_SIZE = 1392;

struct NLDatagram {
    UdtHeader udt;
    PacketType type = PacketType::ICEServerHeartbeatACK;
    PacketVersion version = 0;
    quint16 sourceID = 0;        // sourced types only
    QByteArray verificationHash; // sourced and verified types only; 16 bytes
    QByteArray payload;

    // A packet of the type at the table's version, unreliable, sequence 0 until the sender stamps it.
    static NLDatagram create(PacketType type, const QByteArray &payload = {});

    // NL header bytes for the type: 2, 4 or 20.
    static int localHeaderSize(PacketType type);
    int totalHeaderSize() const { return udt.size() + localHeaderSize(type); }

    bool versionMatches() const { return version == versionForPacketType(type); }

    // The datagram, obfuscated at udt.obfuscationLevel.
    QByteArray toDatagram() const;

    // Decodes and de-obfuscates a datagram. The version is decoded, not checked: the receiver
    // decides what to do with a mismatch (see versionMatches()). For an unknown type the result's
    // value still carries the type byte, so the caller can count it.
    static Decoded<NLDatagram> fromDatagram(const QByteArray &datagram);

    // Where the payload starts when the datagram is the plain form of a packet of this non-sourced
    // type: not a control packet, no message words, not obfuscated, the table's version, at most
    // MAX_PACKET_SIZE. -1 otherwise (and always for sourced types). For such a datagram
    // fromDatagram() yields exactly the bytes from there on, so a hot receive path can read the
    // payload in place and leave everything else to fromDatagram().
    static int plainPayloadOffset(const QByteArray &datagram, PacketType type);
};

// The UDT data-packet header that starts every Overte datagram, and its payload obfuscation.
//
//   word 0 (little-endian u32):
//    31   30   29   28..27   26 ........................ 0
//   [C] [R]  [M]  [ obf ]  [      sequence number       ]
//   word 1 (only if M): [pos:2][ message number : 30 ]
//   word 2 (only if M): [      message part number     ]
//
// ICE packets always use C=R=M=O=0, i.e. a 4-byte header. Source: docs/protocol.md 2.1.
#pragma once

#include "ByteReader.h"

struct UdtHeader {
    enum class MessagePosition : quint8 { Only = 0, Last = 1, First = 2, Middle = 3 };

    static constexpr quint32 ControlBitMask = 0x80000000u;
    static constexpr quint32 ReliableBitMask = 0x40000000u;
    static constexpr quint32 MessageBitMask = 0x20000000u;
    static constexpr quint32 ObfuscationMask = 0x18000000u;
    static constexpr int ObfuscationShift = 27;
    static constexpr quint32 SequenceNumberMask = 0x07FFFFFFu;
    static constexpr quint32 MessageNumberMask = 0x3FFFFFFFu;
    static constexpr int MessagePositionShift = 30;

    bool reliable = false;
    bool message = false;
    quint8 obfuscationLevel = 0; // 0..3
    quint32 sequenceNumber = 0;  // 27 bits
    MessagePosition messagePosition = MessagePosition::Only;
    quint32 messageNumber = 0; // 30 bits
    quint32 messagePartNumber = 0;

    int size() const { return message ? 12 : 4; }

    void encode(ByteWriter &out) const;
    // Fails with ControlPacket for C=1: control packets belong to reliable transfers, not ICE.
    static Decoded<UdtHeader> decode(ByteReader &in);

    friend bool operator==(const UdtHeader &a, const UdtHeader &b) {
        return a.reliable == b.reliable && a.message == b.message && a.obfuscationLevel == b.obfuscationLevel
               && a.sequenceNumber == b.sequenceNumber && a.messagePosition == b.messagePosition
               && a.messageNumber == b.messageNumber && a.messagePartNumber == b.messagePartNumber;
    }
};

// XORs bytes[offset..] with the 8-byte key of the level (1..3), cycling from offset. Level 0 leaves
// the bytes alone. Applying it twice restores the input, so it both obfuscates and de-obfuscates.
void applyObfuscation(QByteArray &bytes, int offset, quint8 level);

#include "UdtHeader.h"

namespace {
// Overte's three uint64 keys as they sit in little-endian memory ("tessirbc", "adraribs", "namffuhr").
constexpr char kObfuscationKeys[3][8] = {
    { 0x74, 0x65, 0x73, 0x73, 0x69, 0x72, 0x62, 0x63 },
    { 0x61, 0x64, 0x72, 0x61, 0x72, 0x69, 0x62, 0x73 },
    { 0x6e, 0x61, 0x6d, 0x66, 0x66, 0x75, 0x68, 0x72 },
};
} // namespace

void UdtHeader::encode(ByteWriter &out) const {
    quint32 word = sequenceNumber & SequenceNumberMask;
    word |= (quint32(obfuscationLevel & 0x3) << ObfuscationShift);
    if (reliable) {
        word |= ReliableBitMask;
    }
    if (message) {
        word |= MessageBitMask;
    }
    out.writeU32LE(word);
    if (message) {
        out.writeU32LE((quint32(messagePosition) << MessagePositionShift) | (messageNumber & MessageNumberMask));
        out.writeU32LE(messagePartNumber);
    }
}

Decoded<UdtHeader> UdtHeader::decode(ByteReader &in) {
    const quint32 word = in.readU32LE();
    if (!in.ok()) {
        return Decoded<UdtHeader>::failure(in.error());
    }
    if (word & ControlBitMask) {
        return Decoded<UdtHeader>::failure(WireError::ControlPacket);
    }
    Decoded<UdtHeader> result;
    UdtHeader &h = result.value;
    h.reliable = word & ReliableBitMask;
    h.message = word & MessageBitMask;
    h.obfuscationLevel = quint8((word & ObfuscationMask) >> ObfuscationShift);
    h.sequenceNumber = word & SequenceNumberMask;
    if (h.message) {
        const quint32 messageWord = in.readU32LE();
        h.messagePartNumber = in.readU32LE();
        if (!in.ok()) {
            return Decoded<UdtHeader>::failure(in.error());
        }
        h.messagePosition = MessagePosition(messageWord >> MessagePositionShift);
        h.messageNumber = messageWord & MessageNumberMask;
    }
    return result;
}

void applyObfuscation(QByteArray &bytes, int offset, quint8 level) {
    if (level == 0 || level > 3 || offset >= bytes.size()) {
        return;
    }
    const char *key = kObfuscationKeys[level - 1];
    char *data = bytes.data();
    for (int i = offset, k = 0; i < bytes.size(); ++i, k = (k + 1) & 7) {
        data[i] ^= key[k];
    }
}

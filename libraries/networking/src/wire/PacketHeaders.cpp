#include "PacketHeaders.h"

namespace {

struct PacketTypeInfo {
    PacketType type;
    PacketVersion version;
    bool sourced;
    bool verified;
    const char *name;
};

constexpr PacketTypeInfo kPacketTypes[] = {
#define ICEBREAKER_PACKET_INFO(name, number, version, sourced, verified) \
    { PacketType::name, version, sourced, verified, #name },
    ICEBREAKER_PACKET_TYPES(ICEBREAKER_PACKET_INFO)
#undef ICEBREAKER_PACKET_INFO
};

// A 256-entry index from type byte to table row, built once; -1 for bytes outside the table.
struct TypeIndex {
    qint8 row[256];
    PacketType order[packetTypeTableSize()];
    TypeIndex() {
        for (auto &r : row) {
            r = -1;
        }
        for (int i = 0; i < packetTypeTableSize(); ++i) {
            row[quint8(kPacketTypes[i].type)] = qint8(i);
            order[i] = kPacketTypes[i].type;
        }
    }
};

const TypeIndex &index() {
    static const TypeIndex instance;
    return instance;
}

const PacketTypeInfo *infoFor(PacketType type) {
    const int row = index().row[quint8(type)];
    return row < 0 ? nullptr : &kPacketTypes[row];
}

} // namespace

bool isKnownPacketType(quint8 typeByte) {
    return index().row[typeByte] >= 0;
}

PacketVersion versionForPacketType(PacketType type) {
    const PacketTypeInfo *info = infoFor(type);
    return info ? info->version : 0;
}

bool isSourcedPacketType(PacketType type) {
    const PacketTypeInfo *info = infoFor(type);
    return info && info->sourced;
}

bool isVerifiedPacketType(PacketType type) {
    const PacketTypeInfo *info = infoFor(type);
    return info && info->verified;
}

const char *packetTypeName(PacketType type) {
    const PacketTypeInfo *info = infoFor(type);
    return info ? info->name : nullptr;
}

const PacketType *allPacketTypes() {
    return index().order;
}

QDebug operator<<(QDebug debug, PacketType type) {
    QDebugStateSaver saver(debug);
    const char *name = packetTypeName(type);
    if (name) {
        debug.nospace() << name << '(' << int(type) << ')';
    } else {
        debug.nospace() << "PacketType(" << int(type) << ')';
    }
    return debug;
}

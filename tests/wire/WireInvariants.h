// Properties every wire decoder must keep for *any* input, checked by tst_wiremalformed's garbage
// run and by the fuzz_datagram libFuzzer target (one list, so the two cannot drift apart).
// A decoder may reject anything; what it accepts must re-encode to the bytes it came from.
#pragma once

#include <IcePackets.h>
#include <NLDatagram.h>
#include <NetworkPeer.h>
#include <StunMessage.h>
#include <TurnMessage.h>

#include <QtCore/QString>

namespace wireinvariants {

// QHostAddress::operator== ignores the scope id, so compare every part that travels.
inline bool sameSockAddr(const SockAddr &a, const SockAddr &b) {
    const QHostAddress &x = a.getAddress();
    const QHostAddress &y = b.getAddress();
    if (x.protocol() != y.protocol() || a.getPort() != b.getPort() || x.scopeId() != y.scopeId()
        || x.scopeId().isNull() != y.scopeId().isNull()) {
        return false;
    }
    return x.protocol() == QAbstractSocket::UnknownNetworkLayerProtocol || x == y;
}

struct Report {
    QString violation; // empty when every invariant held
    int accepted = 0;  // how many decoders accepted the input
};

// Every payload decoder on the same bytes.
inline void checkPayload(const QByteArray &payload, Report &r) {
    if (!r.violation.isEmpty()) {
        return;
    }
    const auto hb = IceServerHeartbeat::fromPayload(payload);
    if (hb.ok()) {
        ++r.accepted;
        const IceServerHeartbeat &v = hb.value;
        if (v.toPayload() != payload) {
            r.violation = QStringLiteral("IceServerHeartbeat does not re-encode to its payload");
        } else if (v.plaintext != IceServerHeartbeat::signedPlaintext(v.domainID, v.publicSocket, v.localSocket)
                   || !payload.startsWith(v.plaintext)) {
            r.violation = QStringLiteral("IceServerHeartbeat plaintext is not the leading ID and sockets");
        }
    }
    const auto query = IceServerQuery::fromPayload(payload);
    if (query.ok()) {
        ++r.accepted;
        if (query.value.toPayload() != payload) {
            r.violation = QStringLiteral("IceServerQuery does not re-encode to its payload");
        }
    }
    const auto ping = IcePing::fromPayload(payload);
    if (ping.ok()) {
        ++r.accepted;
        if (payload.size() != IcePing::PayloadSize || ping.value.toPayload() != payload
            || quint8(ping.value.pingType) > quint8(PingType::Symmetric)) {
            r.violation = QStringLiteral("IcePing does not re-encode to its 17 bytes");
        }
    }
    const auto peer = NetworkPeer::fromByteArray(payload);
    if (peer.ok()) {
        ++r.accepted;
        if (peer.value.toByteArray() != payload) {
            r.violation = QStringLiteral("NetworkPeer does not re-encode to its payload");
        }
    }
    const WireError empty = checkEmptyPayload(payload);
    if (empty != (payload.isEmpty() ? WireError::NoError : WireError::TrailingBytes)) {
        r.violation = QStringLiteral("checkEmptyPayload disagrees with the payload size");
    }
}

inline void checkStun(const QByteArray &datagram, Report &r) {
    const bool looks = StunMessage::looksLikeStun(datagram);
    const auto stun = StunMessage::decode(datagram);
    if (datagram.size() < StunMessage::HeaderSize) {
        if (looks || stun.error != WireError::Truncated) {
            r.violation = QStringLiteral("a datagram shorter than a STUN header was not rejected as Truncated");
        }
        return;
    }
    if ((stun.error == WireError::NotStun) == looks) {
        r.violation = QStringLiteral("StunMessage::decode and looksLikeStun disagree");
        return;
    }
    if (stun.ok()) {
        ++r.accepted;
        const StunMessage &m = stun.value;
        const auto again = StunMessage::decode(m.encode());
        if (!again.ok() || again.value.type != m.type || again.value.transactionId != m.transactionId
            || !sameSockAddr(again.value.xorMappedAddress, m.xorMappedAddress)
            || !sameSockAddr(again.value.mappedAddress, m.mappedAddress)) {
            r.violation = QStringLiteral("a decoded STUN message does not survive encode and decode");
            return;
        }
    }
    const QByteArray txid = datagram.mid(8, StunMessage::TransactionIdSize);
    const auto mapped = StunMessage::parseBindingResponse(datagram, txid);
    if (mapped.ok()) {
        ++r.accepted;
        if (!stun.ok() || stun.value.type != StunMessage::BindingSuccess
            || !sameSockAddr(mapped.value, stun.value.mappedSocket()) || mapped.value.isNull()) {
            r.violation = QStringLiteral("parseBindingResponse accepted what decode did not describe");
        }
    }
}

// Every field TURN decoding keeps (the trailer flags aside: they describe the bytes, not the message).
inline bool sameTurn(const TurnMessage &a, const TurnMessage &b) {
    if (a.peerAddresses.size() != b.peerAddresses.size()) {
        return false;
    }
    for (int i = 0; i < a.peerAddresses.size(); ++i) {
        if (!sameSockAddr(a.peerAddresses[i], b.peerAddresses[i])) {
            return false;
        }
    }
    return a.method == b.method && a.messageClass == b.messageClass && a.transactionId == b.transactionId
           && a.software == b.software && a.username == b.username && a.realm == b.realm && a.nonce == b.nonce
           && a.errorCode == b.errorCode && a.errorReason == b.errorReason
           && a.requestedTransport == b.requestedTransport && a.lifetime == b.lifetime
           && a.channelNumber == b.channelNumber && sameSockAddr(a.relayedAddress, b.relayedAddress)
           && sameSockAddr(a.mappedAddress, b.mappedAddress) && a.data == b.data
           && a.otherAttributes == b.otherAttributes;
}

// TURN on the same bytes: what decodes survives encode (with and without trailers) and decode;
// the trailer checks and ChannelData never misbehave on anything.
inline void checkTurn(const QByteArray &datagram, Report &r) {
    const auto turn = TurnMessage::decode(datagram);
    if (datagram.size() >= StunMessage::HeaderSize
        && (turn.error == WireError::NotStun) == StunMessage::looksLikeStun(datagram)) {
        r.violation = QStringLiteral("TurnMessage::decode and looksLikeStun disagree");
        return;
    }
    if (turn.ok()) {
        ++r.accepted;
        const TurnMessage &m = turn.value;
        const auto plain = TurnMessage::decode(m.encode());
        if (!plain.ok() || !sameTurn(plain.value, m) || plain.value.hasIntegrity || plain.value.hasFingerprint) {
            r.violation = QStringLiteral("a decoded TURN message does not survive encode and decode");
            return;
        }
        const QByteArray key = TurnMessage::longTermKey("user", "realm", "password");
        const QByteArray signedBytes = m.encode(key, true);
        const auto again = TurnMessage::decode(signedBytes);
        if (!again.ok() || !sameTurn(again.value, m) || !again.value.hasIntegrity || !again.value.hasFingerprint
            || !TurnMessage::checkIntegrity(signedBytes, key) || !TurnMessage::checkFingerprint(signedBytes)) {
            r.violation = QStringLiteral("a signed TURN message does not verify or decode to itself");
            return;
        }
    }
    // Both must cope with any bytes; a random input passing the CRC is a 1 in 2^32 event.
    TurnMessage::checkIntegrity(datagram, QByteArray("key"));
    TurnMessage::checkFingerprint(datagram);

    const auto channel = ChannelData::decode(datagram);
    if (channel.ok()) {
        ++r.accepted;
        const QByteArray encoded = channel.value.encode();
        const int unpadded = ChannelData::HeaderSize + channel.value.payload.size();
        if (turnFraming(datagram) != TurnFraming::ChannelData || encoded.left(unpadded) != datagram.left(unpadded)
            || encoded.size() % 4 != 0 || datagram.size() - unpadded > 3) {
            r.violation = QStringLiteral("a ChannelData frame does not re-encode to its header and payload");
        }
    }
}

inline Report check(const QByteArray &datagram) {
    Report r;
    const auto nl = NLDatagram::fromDatagram(datagram);
    if (datagram.size() > MAX_PACKET_SIZE && nl.error != WireError::Oversized) {
        r.violation = QStringLiteral("an oversized datagram was not rejected as Oversized");
        return r;
    }
    if (nl.error == WireError::UnknownType && isKnownPacketType(quint8(nl.value.type))) {
        r.violation = QStringLiteral("UnknownType reported for a type in the table");
        return r;
    }
    if (nl.ok()) {
        ++r.accepted;
        const NLDatagram &p = nl.value;
        if (p.toDatagram() != datagram) {
            r.violation = QStringLiteral("NLDatagram does not re-encode to its datagram");
            return r;
        }
        if (p.totalHeaderSize() + p.payload.size() != datagram.size()) {
            r.violation = QStringLiteral("NLDatagram header size rule disagrees with the payload it kept");
            return r;
        }
        // The demultiplexing rule of the socket: no ICE-shaped datagram (M=0) may pass for STUN.
        // With M=1 the cookie falls into the message word, so no such promise holds there (and a
        // STUN response can parse as an M=1 packet: the receiver tests for STUN first).
        if (!p.udt.message && StunMessage::looksLikeStun(datagram)) {
            r.violation = QStringLiteral("a valid Overte datagram without M looks like STUN");
            return r;
        }
        checkPayload(p.payload, r);
    }
    checkPayload(datagram, r);
    if (r.violation.isEmpty()) {
        checkStun(datagram, r);
    }
    if (r.violation.isEmpty()) {
        checkTurn(datagram, r);
    }
    return r;
}

} // namespace wireinvariants

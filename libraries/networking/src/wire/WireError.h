// Why a datagram or payload could not be decoded. Decoders never throw and never read past the
// end of their input: every failure comes back as one of these values.
#pragma once

#include <QtCore/QString>

enum class WireError : quint8 {
    NoError = 0,
    Truncated,               // the input ended before a field did
    TrailingBytes,           // a fixed-size payload carried more than it should
    Oversized,               // a length field points past what any valid packet can hold
    ControlPacket,           // a UDT control packet (never used by ICE)
    UnknownType,             // a packet type outside the table
    VersionMismatch,         // the version byte differs from the table's
    BadAddress,              // an address family or protocol byte we do not know
    BadValue,                // a field holds a value outside its range (e.g. a ping type)
    NotStun,                 // no STUN magic cookie, or not a binding message
    StunTransactionMismatch, // a STUN response for a request we did not send
    StunNoMappedAddress      // a STUN success response without a usable mapped address
};

QString wireErrorString(WireError error);

// A decoded value or the reason there is none. Small on purpose: T is always a value type.
template <typename T> struct Decoded {
    T value {};
    WireError error = WireError::NoError;

    bool ok() const { return error == WireError::NoError; }
    static Decoded failure(WireError e) {
        Decoded d;
        d.error = e;
        return d;
    }
};

// libFuzzer target for everything that reads bytes off the ICE socket: the UDT/NL header, every
// ICE payload codec, NetworkPeer, STUN and TURN (messages, MESSAGE-INTEGRITY, FINGERPRINT,
// ChannelData). Any input may be rejected; whatever is accepted must
// re-encode to the bytes it came from (the invariants live in tests/wire/WireInvariants.h and are
// shared with tst_wiremalformed). A violated invariant aborts so libFuzzer keeps the input.
#include "WireInvariants.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // Far beyond any UDP datagram; keeps QByteArray's int sizes (Qt 5) safe.
    if (size > 65536) {
        return 0;
    }
    const QByteArray input(reinterpret_cast<const char *>(data), int(size));
    const wireinvariants::Report report = wireinvariants::check(input);
    if (!report.violation.isEmpty()) {
        std::fprintf(stderr, "wire invariant violated: %s\ninput: %s\n", qPrintable(report.violation),
                     input.toHex().constData());
        std::abort();
    }
    return 0;
}

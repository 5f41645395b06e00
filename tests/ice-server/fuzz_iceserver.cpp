// libFuzzer target on the ice-server's datagram entry point: IceServer over a FakeTransport with a
// trusted key for one domain, so heartbeats, queries, STUN and garbage all reach real code paths.
// The first input byte picks the sender, so the rate limiter and the replay rule see several.
// Each input also checks the hot path's shortcuts against the full decoders (checkShortcuts).
#include <DomainKeyStore.h>
#include <FakeTransport.h>
#include <IceServer.h>
#include <KeyDirectory.h>
#include <RsaPrivateKey.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QLoggingCategory>
#include <QtCore/QTemporaryDir>

#include <cstdint>
#include <cstdlib>

namespace {
struct Harness {
    Harness() {
        static int argc = 1;
        static char name[] = "fuzz_iceserver";
        static char *argv[] = { name, nullptr };
        app = new QCoreApplication(argc, argv);
        QLoggingCategory::setFilterRules(QStringLiteral("*.debug=false\n*.info=false\n*.warning=false"));
        // One trusted domain, the ID fuzz inputs are most likely to hit (all zero bytes but one).
        QFile file(keys.filePath(QStringLiteral("00000000-0000-0000-0000-000000000001.pem")));
        file.open(QIODevice::WriteOnly);
        file.write(RsaPrivateKey::generate(1024).publicKey().toPem());
        file.close();
        directory = new KeyDirectory(keys.path(), 0);
        directory->start();
        store = new DomainKeyStore(directory, nullptr, KeyFetchSettings());
        IceServerSettings settings;
        settings.maxDomains = 64;
        settings.rateLimit.maxSources = 16;
        // The limiter's code runs for every input but never refuses one: a real limit would turn
        // all but the first few thousand inputs into early returns.
        settings.rateLimit.packetsPerSecond = 1e12;
        settings.rateLimit.burst = 1e12;
        server = new IceServer(&transport, store, settings);
        server->start();
    }
    QCoreApplication *app;
    QTemporaryDir keys;
    FakeTransport transport;
    KeyDirectory *directory;
    DomainKeyStore *store;
    IceServer *server;
};

// The server reads plain packets in place and forwards a querier's record as received: both must
// agree with what fromDatagram() and IceServerQuery::fromPayload() + re-encoding would give.
void checkShortcuts(const QByteArray &datagram) {
    for (const PacketType type : { PacketType::ICEServerHeartbeat, PacketType::ICEServerQuery }) {
        const int offset = NLDatagram::plainPayloadOffset(datagram, type);
        if (offset >= 0) {
            const Decoded<NLDatagram> packet = NLDatagram::fromDatagram(datagram);
            if (!packet.ok() || packet.value.type != type || !packet.value.versionMatches()
                || packet.value.payload != datagram.mid(offset)) {
                std::abort();
            }
        }
    }
    for (const QByteArray &payload : { datagram, datagram.mid(6) }) {
        const IceServerQuery::Scanned scanned = IceServerQuery::scan(payload);
        const Decoded<IceServerQuery> decoded = IceServerQuery::fromPayload(payload);
        if (scanned.error != decoded.error) {
            std::abort();
        }
        if (decoded.ok()) {
            const IceServerQuery &q = decoded.value;
            if (scanned.domainID != q.domainID
                || payload.left(scanned.recordSize)
                       != NetworkPeer(q.clientID, q.publicSocket, q.localSocket).toByteArray()) {
                std::abort();
            }
        }
    }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static Harness harness;
    if (size == 0) {
        return 0;
    }
    const quint8 who = data[0];
    const SockAddr sender(QHostAddress(quint32(0x7f000000u | (who & 0x1f))), quint16(40000 + (who >> 5)));
    const QByteArray datagram(reinterpret_cast<const char *>(data + 1), int(size - 1));
    checkShortcuts(datagram);
    harness.server->processDatagram(datagram, sender);
    harness.transport.clearSent();
    if ((who & 0xe0) == 0xe0) {
        harness.server->clearInactivePeers();
    }
    return 0;
}

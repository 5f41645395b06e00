// A snapshot of everything the ice-server counts, gathered from its parts on request; metrics and
// the health monitor read it, the hot path never formats it. Plus the monotonic clock all parts use.
#pragma once

#include <QtCore/QtGlobal>

#include <array>
#include <chrono>

inline qint64 monotonicMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

struct IceServerStats {
    enum Drop : quint8 {
        RateLimited,
        Malformed,
        UnknownType,
        VersionMismatch,
        NoListener,
        UnknownDomain,
        TableFull,
        ReplayIgnored,
        SendFailed,
        DropCount
    };
    static const char *dropName(int drop);

    quint64 datagramsIn = 0;
    std::array<quint64, 256> packetsInByType {}; // dispatched Overte packets
    std::array<quint64, 256> packetsOutByType {};
    quint64 stunIn = 0;
    quint64 stunOut = 0;
    std::array<quint64, DropCount> drops {};

    quint64 heartbeatsAcked = 0;
    quint64 deniedNoKey = 0;
    quint64 deniedBadSignature = 0;
    quint64 verifyCacheHits = 0;
    quint64 rsaVerifies = 0;
    quint64 queriesAnswered = 0;

    quint64 registrations = 0;
    quint64 expirations = 0;
    quint64 moves = 0;
    int registeredDomains = 0;

    quint64 keyFetchesStarted = 0;
    std::array<quint64, 8> keyFetchOutcomes {}; // by MetaverseKeyFetcher::Outcome
    quint64 keyFetchesRefusedInFlight = 0;
    quint64 keyFetchesRefusedRate = 0;
    quint64 keyNegativeHits = 0;
    int keyFetchesInFlight = 0;
    int cachedKeys = 0;
    int directoryKeys = 0;

    int rateLimitTrackedSources = 0;
    quint64 rateLimitedSources = 0;

    // Adds what another worker counted (its trafficStats()); the shared fields (domains, keys,
    // rate-limiter sources) are not per worker and stay as they are.
    void addTraffic(const IceServerStats &other) {
        datagramsIn += other.datagramsIn;
        for (size_t i = 0; i < packetsInByType.size(); ++i) {
            packetsInByType[i] += other.packetsInByType[i];
            packetsOutByType[i] += other.packetsOutByType[i];
        }
        stunIn += other.stunIn;
        stunOut += other.stunOut;
        for (size_t i = 0; i < drops.size(); ++i) {
            drops[i] += other.drops[i];
        }
        heartbeatsAcked += other.heartbeatsAcked;
        deniedNoKey += other.deniedNoKey;
        deniedBadSignature += other.deniedBadSignature;
        verifyCacheHits += other.verifyCacheHits;
        rsaVerifies += other.rsaVerifies;
        queriesAnswered += other.queriesAnswered;
        registrations += other.registrations;
        expirations += other.expirations;
        moves += other.moves;
    }

    quint64 totalDrops() const {
        quint64 sum = 0;
        for (quint64 d : drops) {
            sum += d;
        }
        return sum;
    }
    quint64 keyFetchFailures() const {
        quint64 sum = 0;
        for (size_t i = 1; i < keyFetchOutcomes.size(); ++i) {
            sum += keyFetchOutcomes[i];
        }
        return sum;
    }
};

// Every tunable of the ice-server in one plain value, with the defaults the binary uses.
// main.cpp fills it from the command line; tests set the few fields they care about.
#pragma once

#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QUrl>
#include <QtNetwork/QHostAddress>

struct RateLimitSettings {
    double packetsPerSecond = 50.0; // per source IP, refill rate; 0 turns limiting off
    double burst = 100.0;           // bucket size
    int maxSources = 65536;         // tracked source IPs; the least recently seen is evicted
    // TURN servers the operator runs or trusts (docs/turn.md, "Bounds"): every domain that
    // heartbeats through one shares its IP, so a source at one of these IPs gets a bucket per
    // relayed address (IP and port) with the rates above, and the relay IP as a whole one more
    // bucket with the larger rates below. Anyone may spoof a relay's IP; it buys no more than
    // the relay's aggregate, and spoofing any other IP was already possible.
    QList<QHostAddress> trustedRelays;
    double relayPacketsPerSecond = 5000.0; // all relayed addresses of one trusted relay together
    double relayBurst = 10000.0;
};

struct KeyFetchSettings {
    QUrl metaverseUrl;          // empty: no fetching, the key directory only
    int timeoutMs = 5000;       // a GET that has not finished by then is aborted
    int maxInFlight = 16;       // concurrent GETs
    double maxPerSecond = 10.0; // new GETs per second (token bucket, burst = this)
    int negativeTtlMs = 60000;  // an ID the metaverse does not know is not asked again for this long
    int maxNegativeEntries = 100000;
    int keyTtlMs = 3600000;                 // a fetched key is trusted this long, whether or not its domain is silent
    int refetchAfterFailedVerifyMs = 60000; // a failed verify re-fetches at most this often per domain
    int maxCachedKeys = 500000;
    int maxResponseBytes = 64 * 1024;
};

struct IceServerSettings {
    int peerTimeoutMs = 5000;   // a domain with no accepted heartbeat for longer is dropped
    int sweepIntervalMs = 1000; // how often silent domains are looked for
    int maxDomains = 250000;    // registered domains; beyond it new domains are not registered
    // A verified heartbeat from an address that is neither the active socket nor on the domain's
    // self-reported public or local IP moves the active socket only after the active one has been
    // silent this long (see PeerTable.h, the replay rule). 0 = half the peer timeout.
    int takeoverSilenceMs = 0;
    RateLimitSettings rateLimit;

    int effectiveTakeoverSilenceMs() const { return takeoverSilenceMs > 0 ? takeoverSilenceMs : peerTimeoutMs / 2; }
};

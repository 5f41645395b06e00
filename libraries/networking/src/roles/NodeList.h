// The client's ICE engine (Overte's NodeList, ICE part): asks the ice-server for the domain's sockets,
// ping-punches them, and answers the domain's pings. It uses a LimitedNodeList for the socket and a
// DomainHandler (owned) for what is known about the domain (docs/protocol.md 4.3).
//
// Queries about every second until peer information arrives, as upstream; then punch rounds
// (PunchRound, shared with the domain's side), each pinging the domain's local and public sockets (and
// its symmetric one once seen), timed by PunchTiming: priming at once; a domain behind NAT gets full-TTL
// pings only back to where its own pings come from, at once; one without NAT gets full-TTL rounds from
// 40 ms, backing off from the query's round trip to 250 ms; after 2 s without a reply the attempt ends: soft reset,
// a fresh ICE client ID, optionally a fresh local port, a new STUN run and a new query. Unlike upstream it gives up:
// after maxUnansweredQueries queries with no peer information (DomainHandler::IceServerSilent or DomainUnknown) or
// after maxPunchAttempts failed attempts (PunchFailed). The first rounds of each attempt are sent with the small TTLs
// of the priming schedule (see PunchTtlSchedule). It answers only pings that carry the ID of the domain it connects to
// (upstream answers anyone, Q6).
//
// As upstream, a NodeList is-a LimitedNodeList: NodeList(ownerType, port) or NodeList(transport)
// owns its socket. The older NodeList(LimitedNodeList *) still works: the NodeList then sends and
// receives through that other node list, and its own LimitedNodeList part is detached (no socket).
#pragma once

#include "DomainHandler.h"
#include "LimitedNodeList.h"
#include "PunchRound.h"
#include "PunchTiming.h"
#include "PunchTtlSchedule.h"
#include "RelayFallback.h"

#include <MonotonicClock.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QObject>

class NodeList : public LimitedNodeList {
    Q_OBJECT
public:
    static constexpr int DOMAIN_SERVER_CHECK_IN_MSECS = 1000;
    // Upstream's names: its round interval (our slowest) and rounds per attempt (our attempt lasts as
    // long, 2 s; PunchTiming fits more rounds into it).
    static constexpr int UDP_PUNCH_PING_INTERVAL_MS = PunchRound::IntervalMs;
    static constexpr int NUM_DOMAIN_SERVER_PINGS_BEFORE_RESET = PunchRound::RoundsPerAttempt;
    static constexpr int DEFAULT_MAX_UNANSWERED_QUERIES = 10;
    static constexpr int DEFAULT_MAX_PUNCH_ATTEMPTS = 3;

    // Registers for ICEServerPeerInformation, ICEPing and ICEPingReply on the node list's receiver.
    // Its query and punch timers run on clock (the system clock unless a test passes its own; it
    // must outlive this object).
    //
    // Upstream's: binds 0.0.0.0:socketListenPort (INVALID_PORT: a random port). Our node list has one
    // UDP socket, so dtlsListenPort is ignored; ownerType is kept (getOwnerType()).
    explicit NodeList(char ownerType, int socketListenPort = INVALID_PORT, int dtlsListenPort = INVALID_PORT);
    // On a transport made elsewhere (not owned), e.g. FakeTransport in tests.
    explicit NodeList(UdpTransport *transport, QObject *parent = nullptr);
    NodeList(UdpTransport *transport, MonotonicClock &clock, QObject *parent = nullptr);
    // Compatibility: works through limitedNodeList (see above).
    explicit NodeList(LimitedNodeList *limitedNodeList, QObject *parent = nullptr);
    NodeList(LimitedNodeList *limitedNodeList, MonotonicClock &clock, QObject *parent = nullptr);

    // The node list that carries our traffic: this one, or the one given to the compatibility form.
    LimitedNodeList *getLimitedNodeList() const { return _limitedNodeList; }
    char getOwnerType() const { return _ownerType; }
    DomainHandler &getDomainHandler() { return _domainHandler; }

    void setPunchTtlSchedule(const PunchTtlSchedule &schedule) { _punchTtlSchedule = schedule; }
    const PunchTtlSchedule &punchTtlSchedule() const { return _punchTtlSchedule; }
    // Move to a fresh local port before each new attempt (escapes a stale NAT entry; docs/design.md).
    void setUseFreshPortOnRetry(bool fresh) { _freshPortOnRetry = fresh; }
    bool useFreshPortOnRetry() const { return _freshPortOnRetry; }
    void setMaxUnansweredQueries(int count) { _maxUnansweredQueries = qMax(1, count); }
    int maxUnansweredQueries() const { return _maxUnansweredQueries; }
    void setMaxPunchAttempts(int count) { _maxPunchAttempts = qMax(1, count); }
    int maxPunchAttempts() const { return _maxPunchAttempts; }

    // When to relay through the TURN server of the node list that carries our traffic (see
    // RelayFallback); never without one.
    void setRelayMode(RelayConfig::Mode mode) { _relay.setMode(mode); }
    const RelayFallback &relayFallback() const { return _relay; }
    // How the domain is reached once discovered: "local", "public", "symmetric" or "relay <our
    // relayed address>".
    QString domainPathName() const;
    // The round trip of the ping that discovered the domain's socket (from our last ping to that
    // socket to its reply), in ms; negative before discovery.
    double discoveryRttMs() const { return _discoveryRttMs; }

    int queriesSent() const { return _queriesSent; }
    int failedPunchAttempts() const { return _failedPunchAttempts; }

    // Sends an ICEPing to the domain's discovered socket (keepalive); false before discovery.
    bool sendPingToDomain(PingType pingType = PingType::Agnostic);
    // Stops querying and punching (the DomainHandler keeps its state).
    void stop();
    // The discovered path died (keepalive unanswered): start over through the ice-server with a
    // fresh ICE client ID and, when fresh ports are enabled, a fresh local port. A NAT entry keyed
    // on the old port (e.g. left by our own pings after the far NAT lost its state) would otherwise
    // keep the path dead: retrying on the same socket never recovers (docs/design.md).
    void reconnectThroughIce();
    // Querying or punching right now (a timer will send something).
    bool isActive() const { return _queryTimer->isActive() || _pingTimer->isActive(); }

public Q_SLOTS:
    // Upstream's periodic check-in. The ICE part only: when the domain needs ICE and its socket is
    // not known yet, it starts (or continues) the ice-server query; otherwise nothing to do here.
    void sendDomainServerCheckIn();
    // Queries the ice-server for the pending domain unless its sockets are known (upstream's name).
    void handleICEConnectionToDomainServer();
    // One punch round (the ping timer's tick).
    void pingPunchForDomainServer();
    // Answers an ICEPing with our ICE client ID, if it carries the pending domain's ID.
    void processICEPingPacket(ReceivedMessagePointer message);

Q_SIGNALS:
    void iceServerQuerySent(int count);
    // We answered an ICEPing from the pending domain (so its side of the punch completes too).
    void domainPingAnswered(const SockAddr &sender);
    // One attempt's rounds went unanswered; another follows unless the limit was reached.
    void punchAttemptFailed(int attempt);

private:
    void wire();
    void startAttempt();
    void sendIceServerQuery();
    void queryTimerFired();
    void startPunching();
    void endPunchAttempt();
    void retryOrGiveUp();
    void requeryThroughRelay();
    void sendPing(const SockAddr &destination, PingType type, int ttl);

    LimitedNodeList *_limitedNodeList = this;
    char _ownerType = 0;
    DomainHandler _domainHandler;
    RelayFallback _relay;
    PunchTtlSchedule _punchTtlSchedule = PunchTtlSchedule::defaultSchedule();
    bool _freshPortOnRetry = false;
    int _maxUnansweredQueries = DEFAULT_MAX_UNANSWERED_QUERIES;
    int _maxPunchAttempts = DEFAULT_MAX_PUNCH_ATTEMPTS;

    MonotonicClock *_clock;
    ClockTimer *_queryTimer; // children of this
    ClockTimer *_pingTimer;
    PunchTiming _punchTiming; // the current attempt's rounds
    qint64 _lastQuerySentMs = -1;
    bool _queryWaitingForStun = false;
    int _unansweredQueries = 0;
    int _queriesSent = 0;
    int _failedPunchAttempts = 0;
    QElapsedTimer _pingClock;
    QHash<SockAddr, qint64> _pingSentNs; // the last ping to each socket, this connection
    double _discoveryRttMs = -1;
};

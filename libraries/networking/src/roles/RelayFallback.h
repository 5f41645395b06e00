// The client's way to a domain through a TURN relay when punching cannot open a path (a symmetric NAT
// facing an endpoint-independent one, carrier-grade NAT). NodeList asks it at two moments, before
// punching (--relay always) and after a failed direct attempt (--relay fallback), and it then runs
// the relay steps (docs/turn.md "Client side"):
//   allocate; create permissions for the domain's IPs from the peer information already received
//   (permissions are per IP: a domain NAT that changes ports still gets through) and wait for one;
//   then NodeList re-queries with a fresh ICE client ID (a domain ignores a second query for an ID
//   it holds) and the relayed address as both our sockets. The domain pings that address; only after
//   its first ping came through the relay do we ping back, to the address the relay reported (a
//   relayed ping reaching the domain's NAT first would leave an unreplied entry there and move the
//   domain's mapping). LimitedNodeList routes datagrams to a peer heard through the relay back
//   through it, so the rest of the punch and the keepalive are unchanged.
// A TURN server that does not answer (or refuses to allocate) is no failure: NodeList goes on
// directly and the direct attempt's result stands. One that did not answer is asked again after the
// next failed direct attempt (under loss every transmission of one request can be lost; a refusal
// stands until reset()). Rejected credentials are a failure of their own.
#pragma once

#include "PunchRound.h"

#include <RelayConfig.h>
#include <TurnClient.h>

#include <QtCore/QList>
#include <QtCore/QObject>

class DomainHandler;
class LimitedNodeList;

class RelayFallback : public QObject {
    Q_OBJECT
public:
    enum class Phase {
        Direct,     // not relaying (yet)
        Allocating, // waiting for the allocation
        Permitting, // waiting for a permission for the domain's IP
        Relaying,   // queries carry the relayed address; pings go through the relay
        Unavailable // the TURN server did not answer (until the next failed direct attempt) or refused
                    // (until reset()): direct only
    };
    Q_ENUM(Phase)

    RelayFallback(LimitedNodeList *nodeList, DomainHandler *domainHandler, QObject *parent = nullptr);

    // Never unless the node list has a TURN client (LimitedNodeList::setTurnServer).
    void setMode(RelayConfig::Mode mode) { _mode = mode; }
    RelayConfig::Mode mode() const { return _mode; }
    bool isEnabled() const;
    Phase phase() const { return _phase; }
    bool isRelaying() const { return _phase == Phase::Relaying; }
    // Our relayed address (what the queries carry while relaying).
    SockAddr relayedAddress() const;

    // A new connection: back to direct punching (an allocation is kept for reuse).
    void reset();
    // Peer information arrived and a punch is about to start: true when the relay takes over instead
    // (--relay always, first time), and the punch must wait for readyToQuery().
    bool takeOverBeforePunching();
    // A direct attempt failed: true when the relay takes over (--relay fallback, first time, or again
    // after the TURN server did not answer).
    bool takeOverAfterFailedAttempt();
    // While relaying: the domain pinged us from sender (NodeList has answered it).
    void noteDomainPing(const SockAddr &sender);
    // While relaying: this round's pings (none until the domain's first ping came through the relay).
    QList<PunchRound::Ping> pings() const;

    // TURN timing for a client that is waiting to connect: a silent TURN server is given up after
    // 2.75 s (RTO 250 ms, 4 transmissions, last wait 4 x RTO) instead of RFC 8489's 39.5 s.
    static TurnClient::Timing clientTiming();

Q_SIGNALS:
    // The permission is in place: re-query with a fresh ID and relayedAddress().
    void readyToQuery();
    // The domain's first relayed ping arrived: ping it now (pings() is no longer empty).
    void pingTargetFound();
    // The TURN server did not answer or would not relay: continue directly.
    void unavailable(const QString &why);
    // The TURN server rejected our credentials.
    void authenticationFailed(const QString &why);

private:
    void begin();
    void onAllocated();
    void onPermissionCreated(const QHostAddress &peer);
    void onError(TurnClient::Error error);
    void becomeReady();
    // While relaying, each new peer information: permit domain IPs the relay did not start with.
    void permitNewDomainIPs();
    QList<QHostAddress> domainIPsFromPeerInformation() const;
    TurnClient *turn() const;

    LimitedNodeList *_nodeList;
    DomainHandler *_domainHandler;
    RelayConfig::Mode _mode = RelayConfig::Mode::Never;
    Phase _phase = Phase::Direct;
    QList<QHostAddress> _domainIPs; // permitted for this connection
    int _permissionsRefused = 0;
    bool _serverSilent = false; // Unavailable because a request went unanswered, not refused
    SockAddr _pingTarget;       // where the domain's first relayed ping came from
    TurnClient *_connectedTurn = nullptr;
};

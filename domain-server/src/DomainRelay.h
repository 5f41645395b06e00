// Whether the domain registers through its TURN relay, and what relaying takes (docs/turn.md,
// "Domain side"). With --relay always it relays at once; with --relay fallback only when its own NAT
// maps endpoint-dependently: the mapped address the ice-server's STUN reports and the one the TURN
// server reports differ. A relaying domain opens the relay to the ice-server's IP before its first
// relayed heartbeat, names the relayed address as its public socket, and opens the relay to each
// introduced client's public IP; what the relay reports a client's address to be is answered
// through the relay by LimitedNodeList, and a client's local socket is pinged directly.
#pragma once

#include <RelayConfig.h>
#include <SockAddr.h>
#include <TurnClient.h>

#include <QtCore/QObject>
#include <QtCore/QPointer>

class LimitedNodeList;

class DomainRelay : public QObject {
    Q_OBJECT
public:
    enum class State {
        Off,      // no relay configured (or --relay never)
        Deciding, // allocating, or waiting for both mapped addresses (fallback)
        Opening,  // relaying decided: waiting for the ice-server's permission
        Relaying, // heartbeats and pings to clients' public sockets go through the relay
        Direct,   // fallback found an endpoint-independent NAT, or the relay failed
    };
    Q_ENUM(State)

    // The node list's TurnClient (LimitedNodeList::setTurnServer) is the relay; without one, or
    // with mode Never, the state stays Off.
    DomainRelay(RelayConfig::Mode mode, LimitedNodeList *nodeList, QObject *parent = nullptr);

    // Allocates (unless Off).
    void start();
    State state() const { return _state; }
    bool isRelaying() const { return _state == State::Relaying; }
    // Whether heartbeats should wait: a relay that will be used (always) is not open yet.
    bool holdsHeartbeats() const {
        return _mode == RelayConfig::Mode::Always && _state != State::Relaying && _state != State::Direct
               && _state != State::Off;
    }
    // The relayed address while relaying, else null.
    SockAddr relayedAddress() const;
    // Whether the datagrams to socket go through our relay.
    bool isRelayedPath(const SockAddr &socket) const;

    // Two mapped addresses of one socket, seen by two servers: a NAT that maps endpoint-dependently
    // gives different ones. Null addresses (not known yet) do not decide anything: false.
    static bool mapsEndpointDependently(const SockAddr &stunMapped, const SockAddr &turnMapped);

public Q_SLOTS:
    // The ice-server heartbeats go to (after every failover).
    void setIceServer(const SockAddr &iceServer);
    // A client the ice-server introduced: while relaying, the relay lets its public IP in and its
    // public socket is reached through the relay.
    void peerIntroduced(const SockAddr &publicSocket);

Q_SIGNALS:
    // Relaying began (heartbeats now name relayedAddress()) or ended.
    void relayingChanged(bool relaying);
    void stateChanged(DomainRelay::State state);
    void errorOccurred(TurnClient::Error error, const QString &errorString);

private:
    void decide();
    void open();
    void onPermission(const QHostAddress &peer);
    void onError(TurnClient::Error error);
    void setState(State state);

    RelayConfig::Mode _mode;
    LimitedNodeList *_nodeList;
    QPointer<TurnClient> _turn;
    State _state = State::Off;
    SockAddr _iceServer;
};

// A TURN relay client (RFC 8656) for one allocation on a TURN server, over the node's own
// UdpTransport (shared with its other traffic, not owned). It allocates with long-term credentials,
// keeps the allocation, its permissions and channels alive, and carries datagrams to and from peers
// through the relay, so a node whose NAT defeats hole punching is still reachable.
//
// The owner feeds every received datagram to handleDatagram() before its own decoding; what came
// from the TURN server is consumed there, and relayed payloads come back out of relayedDatagram()
// with the peer's address, to be handled exactly as if they had arrived directly.
#pragma once

#include "TurnCredentials.h"

#include <SockAddr.h>
#include <TurnMessage.h>
#include <UdpTransport.h>

#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QPointer>

class QTimer;

class TurnClient : public QObject {
    Q_OBJECT
public:
    enum Error {
        NoError,
        Unreachable,       // the server did not answer an Allocate or Refresh after every retransmission
        Unauthorized,      // the server rejected the credentials (401 after authenticating)
        AllocationFailed,  // the server refused the allocation (quota, capacity, mismatch, ...)
        AllocationLost,    // a refresh failed: the server no longer holds the allocation
        PermissionFailed,  // a CreatePermission was refused (e.g. 403 for a forbidden peer), or 3 in a row unanswered
        ChannelBindFailed, // a ChannelBind was refused or 3 in a row unanswered; Send indications go on
    };
    Q_ENUM(Error)

    enum State { Idle, Allocating, Allocated, Releasing, Failed };
    Q_ENUM(State)

    // Every time the client keeps. Defaults are the RFCs'; tests shorten them to match a TURN
    // server started with short lifetimes.
    struct Timing {
        int initialRtoMs = 500;           // RFC 8489 6.2.1: RTO, doubled after each transmission
        int maxTransmissions = 7;         // Rc
        int finalWaitFactor = 16;         // Rm: the wait after the last transmission is Rm * RTO
        int refreshMarginSec = 60;        // refresh this long before a lifetime ends (at most half of it)
        int permissionLifetimeSec = 300;  // RFC 8656 9: fixed by the server, not sent on the wire
        int channelLifetimeSec = 600;     // RFC 8656 12
        quint32 requestedLifetimeSec = 0; // LIFETIME asked for in Allocate/Refresh; 0: the server's default
        int mismatchRetryDelayMs = 1000;  // after a 437, Allocate again this much later (doubled each time)
        int maxMismatchRetries = 2;       // and at most this often: three tries in all, as RFC 8656 7.3 says

        // How long to wait after the n-th transmission (0-based) of a request.
        int waitAfterTransmissionMs(int n) const;
        // From the first transmission until a request is given up.
        int requestTimeoutMs() const;
        // When to refresh something that lives lifetimeSec.
        int refreshAfterMs(int lifetimeSec) const;
    };

    // The largest payload sendTo() relays: a Send indication around it still fits one IPv4 UDP datagram.
    static constexpr int MaxPayloadSize = 65535 - 8 - 20 - 36;

    TurnClient(UdpTransport *transport, const SockAddr &server, const TurnCredentials &credentials,
               QObject *parent = nullptr);
    ~TurnClient() override;

    void setTiming(const Timing &timing) { _timing = timing; }
    const Timing &timing() const { return _timing; }
    // Sent as SOFTWARE in every request (RFC 8489 14.14); empty sends none.
    void setSoftware(const QByteArray &software) { _software = software; }

    // Starts (or restarts after a failure) the allocation; allocated() or errorOccurred() follows.
    void allocate();
    // Ends the allocation with a Refresh of LIFETIME 0 (RFC 8656 7); released() follows once the
    // server confirms or stops answering. Only signals released() when nothing is allocated.
    void release();

    // Asks the relay to let datagrams from this IP through, and keeps the permission refreshed. Can be
    // called before the allocation exists; it is then created right after. Permissions are per IP
    // (any port of a permitted IP gets through).
    void addPermission(const QHostAddress &peer);
    // Binds a channel to this peer (and a permission for its IP), refreshed while the client lives.
    // Until the server confirms, sendTo() uses Send indications. False when all 4096 channels are used.
    bool bindChannel(const SockAddr &peer);

    // Relays one datagram to peer: as ChannelData on a confirmed channel, else as a Send indication.
    // Adds a permission for the peer's IP when there is none yet (the relay drops what it carries
    // until the permission is in place). Never sends with a low TTL: the server must get everything.
    // Returns the payload size, or -1 when nothing is allocated or the payload is too large.
    qint64 sendTo(const SockAddr &peer, const QByteArray &datagram);

    // The demultiplexer. Returns true when the datagram came from the TURN server and was TURN's:
    // a response to one of our requests, a Data indication or ChannelData (first byte 0x40-0x4F).
    // Anything else, and anything from any other sender, is left to the caller (returns false): a
    // datagram from a peer is never taken for relayed data, and a STUN binding response from the same
    // server to someone else's request goes on to its owner.
    bool handleDatagram(const QByteArray &datagram, const SockAddr &sender);

    SockAddr server() const { return _server; }
    State state() const { return _state; }
    SockAddr relayedAddress() const { return _relayed; }
    SockAddr mappedAddress() const { return _mapped; }
    bool hasPermission(const QHostAddress &peer) const;
    // The confirmed channel number for peer, 0 when none.
    quint16 channelFor(const SockAddr &peer) const;

    Error error() const { return _error; }
    QString errorString() const { return _errorString; }

Q_SIGNALS:
    void allocated(const SockAddr &relayed, const SockAddr &mapped);
    void refreshed(quint32 lifetimeSec);
    void released();
    // Each time the server confirms a permission: when created and at every refresh.
    void permissionCreated(const QHostAddress &peer);
    // Each time the server confirms a channel: when bound and at every refresh.
    void channelBound(const SockAddr &peer, quint16 channel);
    // A datagram a peer sent to our relayed address (Data indication or ChannelData).
    void relayedDatagram(const QByteArray &payload, const SockAddr &peer);
    void errorOccurred(TurnClient::Error error);

private:
    struct Transaction;
    struct Permission;
    struct Channel;

    void startRequest(TurnMessage request, int authRetries = 0);
    void transmit(const QByteArray &transactionId);
    void onResponse(const TurnMessage &response, const QByteArray &datagram);
    void onTimeout(const QByteArray &transactionId);
    void onPeerRequestUnanswered(const TurnMessage &request);
    bool retryWithFreshNonce(const Transaction &transaction, const TurnMessage &response);
    void onAllocateResult(const TurnMessage &response);
    void retryAfterMismatch(const TurnMessage &response);
    TurnMessage allocateRequest() const;
    void onRefreshResult(const TurnMessage &request, const TurnMessage &response);
    void onPermissionResult(const TurnMessage &request, const TurnMessage &response);
    void onChannelResult(const TurnMessage &request, const TurnMessage &response);
    void onDataIndication(const TurnMessage &indication);
    void onChannelData(const QByteArray &datagram);

    void sendRefresh(quint32 lifetime);
    void sendPermission(const QHostAddress &peer);
    void sendChannelBind(const SockAddr &peer);
    void scheduleRefresh(quint32 lifetimeSec);
    void setUpPending();

    QByteArray sign(TurnMessage &request) const;
    void fail(Error error, const QString &why);
    void report(Error error, const QString &why);
    void dropTransactions();
    void dropPeers();
    void reset();
    QString describe(const TurnMessage &response) const;

    QPointer<UdpTransport> _transport;
    SockAddr _server;
    TurnCredentials _credentials;
    Timing _timing;
    QByteArray _software;

    State _state = Idle;
    Error _error = NoError;
    QString _errorString;
    SockAddr _relayed;
    SockAddr _mapped;

    // Learned from the server's 401 (RFC 8489 9.2.3); the key signs every later request.
    QByteArray _realm;
    QByteArray _nonce;
    QByteArray _key;

    QHash<QByteArray, Transaction *> _transactions; // by transaction ID
    QHash<QHostAddress, Permission *> _permissions;
    QHash<SockAddr, Channel *> _channels;
    QHash<quint16, SockAddr> _channelPeers;
    quint16 _nextChannel = ChannelData::FirstChannel;
    QTimer *_refreshTimer = nullptr;
    QTimer *_allocateRetryTimer = nullptr; // the Allocate after a 437
    int _mismatchRetries = 0;              // 437s answered by a retry in this allocation attempt
};

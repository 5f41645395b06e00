// The domain's registration with one ice-server at a time (docs/protocol.md 4.1): a signed heartbeat every
// second, ACK and Denied from that server, and the two verdicts upstream draws from them: a new
// keypair is needed (the 4th Denied in a row) and the server is gone (the 7th heartbeat with no
// reply). Choosing the next server and making keys are other classes' jobs; this one only signals.
#pragma once

#include "IceHeartbeatPacket.h"

#include <ReceivedMessage.h>

#include <QtCore/QObject>
#include <QtCore/QTimer>

class PacketReceiver;
class PacketSender;

class IceHeartbeater : public QObject {
    Q_OBJECT
public:
    static constexpr int HeartbeatIntervalMs = 1000;    // ICE_HEARBEAT_INTERVAL_MSECS
    static constexpr int FailoverNoReplyHeartbeats = 6; // more than this unanswered: fail over
    static constexpr int DenialsBeforeNewKeypair = 3;   // more than this Denied: new keypair

    enum class Error { NoError, NoKeypair, SigningFailed, SendFailed };
    Q_ENUM(Error)

    struct Counters {
        quint64 heartbeatsSent = 0;
        quint64 acks = 0;
        quint64 denials = 0;
        quint64 repliesFromStrangers = 0; // ACK/Denied not from the current ice-server: ignored
        quint64 failovers = 0;
        quint64 keypairRequests = 0;
        quint64 heldForPublicSocket = 0; // ticks that waited for STUN instead of sending
    };

    IceHeartbeater(const QUuid &domainID, PacketSender *sender, PacketReceiver *receiver, QObject *parent = nullptr);

    // Starts the 1 s timer and sends at once. The interval is a setting only for tests.
    void start(int intervalMs = HeartbeatIntervalMs);
    void stop();

    const QUuid &domainID() const { return _packet.domainID(); }
    SockAddr iceServer() const { return _iceServer; }
    bool isRegistered() const { return _registered; }
    int unansweredHeartbeats() const { return _noReplyHeartbeats; }
    int consecutiveDenials() const { return _denials; }
    int signCount() const { return _packet.signCount(); }
    bool isAwaitingPublicSocket() const { return _awaitingPublicSocket; }
    const Counters &counters() const { return _counters; }
    Error error() const { return _error; }
    QString errorString() const { return _errorString; }

public Q_SLOTS:
    // A new ice-server: counters start afresh and a heartbeat goes out at once.
    void setIceServer(const SockAddr &iceServer);
    // Our sockets changed (STUN, local address): re-sign and send at once, as upstream does.
    void setSockets(const SockAddr &publicSocket, const SockAddr &localSocket);
    // While true, a heartbeat whose public socket is still null is held back instead of sent
    // (upstream sends it): an ice-server would announce us with no public socket, and clients
    // could only try our LAN address. The owner sets it while STUN's first series is under way
    // and clears it when STUN answered or failed; a heartbeat held meanwhile goes out at once.
    void setAwaitingPublicSocket(bool awaiting);
    // A new keypair (Overte's handleKeypairChange): re-sign and send at once.
    void setPrivateKey(const RsaPrivateKey &key);
    // One heartbeat tick (Overte's sendHeartbeatToIceServer).
    void sendHeartbeatToIceServer();

    void processICEServerHeartbeatACK(ReceivedMessagePointer message);
    void processICEServerHeartbeatDenialPacket(ReceivedMessagePointer message);

Q_SIGNALS:
    // The first ACK from the current ice-server.
    void registered(const SockAddr &iceServer);
    // A Denied; count is how many in a row since the last ACK or key change.
    void denied(const SockAddr &iceServer, int count);
    // The 4th Denied in a row: the ice-server holds another public key than ours.
    void keypairRegenerationNeeded();
    // The 7th heartbeat in a row went unanswered: time to choose another ice-server.
    void iceServerUnresponsive(const SockAddr &iceServer);
    void errorOccurred(IceHeartbeater::Error error, const QString &errorString);

private:
    bool isFromIceServer(const ReceivedMessagePointer &message);
    void setError(Error error, const QString &text);

    PacketSender *_sender;
    IceHeartbeatPacket _packet;
    QTimer _timer;
    SockAddr _iceServer;
    int _noReplyHeartbeats = 0;
    int _denials = 0;
    bool _registered = false;
    bool _awaitingPublicSocket = false;
    bool _heldForPublicSocket = false; // a heartbeat was due while awaiting
    Error _error = Error::NoError;
    QString _errorString;
    Counters _counters;
};

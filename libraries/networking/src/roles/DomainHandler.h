// What the client knows about the domain it connects to through ICE (Overte's DomainHandler, ICE
// part): the ice-server, the domain ID, this attempt's ICE client ID, the domain's ICE peer record,
// and once a ping reply arrived, the domain's socket. NodeList drives the queries and the punch;
// this class judges the answers (docs/protocol.md 4.3 steps 2, 4 and 7).
//
// Differences from upstream: the ice-server port is honoured (Q10); peer information and ping
// replies count only when they carry the pending domain's ID; a reply from an address the domain did
// not report is its symmetric socket (a domain behind a symmetric NAT connects, unlike Q2); and it
// gives up with a reason instead of retrying forever (Q13).
//
// Telling "ice-server silent" from "domain unknown": the ice-server sends nothing back for a domain
// it does not know, so silence alone cannot tell them apart. Any datagram from the ice-server's
// address (peer information, or the answer to a STUN binding request NodeList sends it alongside each
// query; our ice-server answers STUN) proves it reachable. Queries unanswered while it is known
// reachable mean "domain unknown"; otherwise "ice-server silent". An Overte ice-server does not
// answer STUN, so against one an unknown domain is reported as a silent ice-server.
//
// Upstream's public shapes are here too: setIceServerHostnameAndID(name, ID) as the one slot of that
// name, activateICE{Local,Public}Socket, getICEServerSockAddr, getIP, isSocketKnown, softReset(reason)
// and completedSocketDiscovery() without argument (the socket is getSockAddr()).
#pragma once

#include <IcePackets.h>
#include <NetworkPeer.h>
#include <ReceivedMessage.h>

#include <QtCore/QObject>
#include <QtCore/QUuid>

class QHostInfo;

class DomainHandler : public QObject {
    Q_OBJECT
public:
    static constexpr quint16 ICE_SERVER_DEFAULT_PORT = 7337;

    enum class Error {
        NoError,
        IceServerLookupFailed, // the ice-server's name does not resolve (to IPv4)
        IceServerSilent,       // queries unanswered and nothing ever came from the ice-server
        DomainUnknown,         // the ice-server is reachable but never sent the domain's peer information
        PunchFailed,           // peer information arrived, but no ping got a reply in any attempt
        RelayAuthFailed        // the TURN server to relay through rejected our credentials
    };
    Q_ENUM(Error)

    explicit DomainHandler(QObject *parent = nullptr);
    ~DomainHandler() override;

    // Starts connecting to the domain through the ice-server at iceServerHostname:iceServerPort (the
    // slot setIceServerHostnameAndID uses port 7337). A name is resolved asynchronously, an IP literal
    // at once; iceSocketAndIDReceived() follows either way. Calling it again with the same arguments
    // while connecting or connected does nothing.
    void setIceServerHostPortAndID(const QString &iceServerHostname, quint16 iceServerPort, const QUuid &id);
    // Forgets the discovered socket and starts over with the same ice-server and domain (e.g. after
    // the path died), with a fresh ICE client ID.
    void reconnectThroughIce();
    // Forgets everything, including the ice-server and domain.
    void hardReset();
    // Forgets the discovered socket and the peer's sockets and clears an error, keeping the ice-server,
    // the domain and the ICE client ID; nothing is sent until NodeList queries again (its
    // sendDomainServerCheckIn() or handleICEConnectionToDomainServer()). reason is logged.
    void softReset(QString reason);

    const QString &getIceServerHostname() const { return _iceServerHostname; }
    const SockAddr &getIceServerSockAddr() const { return _iceServerSockAddr; }
    const SockAddr &getICEServerSockAddr() const { return _iceServerSockAddr; } // upstream's spelling
    bool requiresICE() const { return !_iceServerSockAddr.isNull(); }
    const QUuid &getPendingDomainID() const { return _pendingDomainID; }

    // This attempt's ICE client ID; a new one per attempt so the domain never confuses two attempts.
    const QUuid &getICEClientID() const { return _iceClientID; }
    void regenerateICEClientID() { _iceClientID = QUuid::createUuid(); }

    NetworkPeer &getICEPeer() { return _icePeer; }
    const NetworkPeer &getICEPeer() const { return _icePeer; }
    // Peer information for the pending domain arrived (at least one socket known); the punch may run.
    bool hasIcePeerInformation() const { return _hasPeerInformation; }
    // Forgets the peer's sockets before a new query (Overte's softReset of the ICE peer).
    void softResetICEPeer();

    // The domain's socket, null until discovery completed.
    const SockAddr &getSockAddr() const { return _sockAddr; }
    bool isSocketDiscovered() const { return !_sockAddr.isNull(); }
    // Upstream's names for the same: the domain's address, and whether it is known.
    QHostAddress getIP() const { return _sockAddr.getAddress(); }
    bool isSocketKnown() const { return !_sockAddr.getAddress().isNull(); }
    // The domain answered on its local (public) socket: that one becomes the domain's socket and
    // completedSocketDiscovery() is emitted. processICEPingReplyPacket calls them.
    void activateICELocalSocket();
    void activateICEPublicSocket();

    // Whether anything ever arrived from the ice-server's address during this connection.
    bool wasIceServerHeardFrom() const { return _iceServerHeardFrom; }
    void noteDatagramFrom(const SockAddr &sender);

    Error error() const { return _error; }
    QString errorString() const { return _errorString; }
    static QString errorName(Error error);
    // Gives up: records the reason and emits errorOccurred(). NodeList calls it when a bound is hit.
    void setErrorState(Error error, const QString &detail);
    // The reason to report if connecting were abandoned now, judged from what happened so far.
    Error diagnose() const;

public Q_SLOTS:
    // Upstream's slot: connects through the ice-server at iceServerHostname, port 7337.
    void setIceServerHostnameAndID(const QString &iceServerHostname, const QUuid &id);
    // ICEServerPeerInformation from the ice-server: the domain's public and local sockets.
    void processICEResponsePacket(ReceivedMessagePointer message);
    // ICEPingReply: activates the socket it came from (local, public, or a new symmetric one).
    void processICEPingReplyPacket(ReceivedMessagePointer message);
    // An ICEPing carrying the pending domain's ID arrived from sender: if the domain did not report
    // that address, it is its symmetric socket, worth pinging too.
    void noteDomainPingFrom(const SockAddr &sender);

Q_SIGNALS:
    // The ice-server address is known: time to query it.
    void iceSocketAndIDReceived();
    // Peer information for the pending domain was accepted: time to punch.
    void icePeerSocketsReceived();
    // The domain answered a ping: getSockAddr() is its socket.
    void completedSocketDiscovery();
    // After discovery: a ping reply from the domain's socket (keepalive).
    void domainPingReplyReceived(const SockAddr &sender);
    void errorOccurred(DomainHandler::Error error, const QString &errorString);

private:
    void handleIceServerLookup(const QHostInfo &info);
    void startAttempt();
    void socketDiscovered(const SockAddr &sockAddr);

    QString _iceServerHostname;
    quint16 _iceServerPort = ICE_SERVER_DEFAULT_PORT;
    SockAddr _iceServerSockAddr;
    int _lookupID = -1;
    QUuid _pendingDomainID;
    QUuid _iceClientID;
    NetworkPeer _icePeer;
    bool _hasPeerInformation = false;
    bool _everHadPeerInformation = false;
    bool _iceServerHeardFrom = false;
    SockAddr _sockAddr;
    Error _error = Error::NoError;
    QString _errorString;
};

Q_DECLARE_METATYPE(DomainHandler::Error)

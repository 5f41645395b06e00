// The ICE part of a domain server (Overte's DomainServer, minus everything else): it wires the
// node's socket and STUN (LimitedNodeList) to the registration classes: IceServerSelector picks the
// ice-server, IceHeartbeater keeps us registered, DomainKeyManager owns the keypair, MetaverseApi
// publishes key and ice-server address when a metaverse is configured, and DomainGatekeeper
// punches through to the clients the ice-server introduces. With a TURN server on the node list,
// DomainRelay decides whether the domain registers through its relay.
#pragma once

#include "DomainGatekeeper.h"
#include "DomainRelay.h"
#include "IceServerSelector.h"

#include <QtCore/QObject>
#include <QtCore/QUrl>

class DomainKeyManager;
class IceHeartbeater;
class LimitedNodeList;
class MetaverseApi;

class DomainServer : public QObject {
    Q_OBJECT
public:
    struct Settings {
        QUuid domainID;
        QString keypairPath;
        QList<HostAndPort> iceServers;
        QString stunServer; // "HOST[:PORT]"; empty = the current ice-server, which answers STUN
        QUrl metaverseUrl;  // empty = no metaverse: keys are installed by the operator
        DomainGatekeeper::Options gatekeeper;
        int heartbeatIntervalMs = 1000;
        // When to register through the node list's TurnClient (RelayOptions::apply gives it one).
        RelayConfig::Mode relayMode = RelayConfig::Mode::Never;
    };

    enum class Error { NoError, KeypairError, IceServerUnresolvable, BadStunServer };
    Q_ENUM(Error)

    DomainServer(const Settings &settings, LimitedNodeList *nodeList, QObject *parent = nullptr);
    ~DomainServer() override;

    // Loads or creates the keypair and starts resolving ice-servers and heartbeating. False (with
    // error()/errorString()) when the keypair is unusable or the STUN server text is bad; an
    // unresolvable ice-server is reported later by errorOccurred() once every name has failed.
    bool start();

    Error error() const { return _error; }
    QString errorString() const { return _errorString; }

    IceHeartbeater *heartbeater() const { return _heartbeater; }
    DomainGatekeeper *gatekeeper() const { return _gatekeeper; }
    IceServerSelector *iceServerSelector() const { return _selector; }
    DomainKeyManager *keyManager() const { return _keys; }
    MetaverseApi *metaverseApi() const { return _metaverse; }
    DomainRelay *relay() const { return _relay; }

Q_SIGNALS:
    void errorOccurred(DomainServer::Error error, const QString &errorString);

private:
    void handleIceServerChanged(const SockAddr &iceServer, const QString &label);
    void handleIceServerUnresponsive(const SockAddr &iceServer);
    void handleRegistered(const SockAddr &iceServer);
    void updateSockets();
    void startHeartbeats();
    void logPeerConnected(const QUuid &peerID, const SockAddr &socket);
    void fail(Error error, const QString &text);

    Settings _settings;
    LimitedNodeList *_nodeList;
    IceServerSelector *_selector;
    IceHeartbeater *_heartbeater;
    DomainGatekeeper *_gatekeeper;
    DomainKeyManager *_keys;
    MetaverseApi *_metaverse = nullptr;
    DomainRelay *_relay;
    bool _started = false;
    bool _heartbeatsStarted = false;
    Error _error = Error::NoError;
    QString _errorString;
};

#include "DomainServer.h"

#include "DomainKeyManager.h"
#include "DomainServerLogging.h"
#include "IceHeartbeater.h"
#include "MetaverseApi.h"

#include <LimitedNodeList.h>

DomainServer::DomainServer(const Settings &settings, LimitedNodeList *nodeList, QObject *parent)
    : QObject(parent), _settings(settings), _nodeList(nodeList) {
    _selector = new IceServerSelector(settings.iceServers, this);
    _heartbeater = new IceHeartbeater(settings.domainID, &nodeList->getPacketSender(), &nodeList->getPacketReceiver(),
                                      this);
    _relay = new DomainRelay(settings.relayMode, nodeList, this);
    DomainGatekeeper::Options gatekeeperOptions = settings.gatekeeper;
    if (const TurnClient *turn = nodeList->getTurnClient()) {
        // Clients relayed by our own TURN server are bounded per relayed address too.
        gatekeeperOptions.trustedRelays.append(turn->server().getAddress());
    }
    _gatekeeper = new DomainGatekeeper(settings.domainID, &nodeList->getPacketSender(), &nodeList->getPacketReceiver(),
                                       gatekeeperOptions, this);
    _keys = new DomainKeyManager(settings.domainID, settings.keypairPath, this);
    if (!settings.metaverseUrl.isEmpty()) {
        _metaverse = new MetaverseApi(settings.metaverseUrl, settings.domainID, this);
        _keys->setMetaverseApi(_metaverse);
    }

    // Introductions are taken only from an ice-server we know (Q5).
    IceServerSelector *selector = _selector;
    _gatekeeper->setIceServerFilter(
        [selector](const SockAddr &sender) { return selector->isKnownIceServerAddress(sender.getAddress()); });

    connect(_selector, &IceServerSelector::currentChanged, this, &DomainServer::handleIceServerChanged);
    connect(_selector, &IceServerSelector::resolutionFinished, this, [this]() {
        if (!_selector->hasCurrent()) {
            QStringList names;
            for (const HostAndPort &spec : _selector->servers()) {
                names.append(spec.toString());
            }
            fail(Error::IceServerUnresolvable,
                 QStringLiteral("cannot resolve any ice-server (%1)").arg(names.join(QStringLiteral(", "))));
        }
    });
    connect(_heartbeater, &IceHeartbeater::iceServerUnresponsive, this, &DomainServer::handleIceServerUnresponsive);
    connect(_heartbeater, &IceHeartbeater::registered, this, &DomainServer::handleRegistered);
    connect(_heartbeater, &IceHeartbeater::keypairRegenerationNeeded, _keys,
            &DomainKeyManager::generateNewDomainKeypair);
    connect(_keys, &DomainKeyManager::newKeypair, _heartbeater, &IceHeartbeater::setPrivateKey);
    connect(_nodeList, &LimitedNodeList::publicSockAddrChanged, this, &DomainServer::updateSockets);
    connect(_nodeList, &LimitedNodeList::localSockAddrChanged, this, &DomainServer::updateSockets);
    connect(_nodeList, &LimitedNodeList::initialSTUNCompleted, this, &DomainServer::updateSockets);
    DomainRelay *relay = _relay;
    _gatekeeper->setRelayedPathFilter([relay](const SockAddr &socket) { return relay->isRelayedPath(socket); });
    connect(_gatekeeper, &DomainGatekeeper::peerIntroduced, _relay,
            [relay](const QUuid &, const SockAddr &publicSocket) { relay->peerIntroduced(publicSocket); });
    connect(_gatekeeper, &DomainGatekeeper::peerConnected, this, &DomainServer::logPeerConnected);
    connect(_relay, &DomainRelay::relayingChanged, this, &DomainServer::updateSockets);
    connect(_relay, &DomainRelay::stateChanged, this, [this]() {
        if (_started && !_relay->holdsHeartbeats()) {
            startHeartbeats();
        }
    });
}

void DomainServer::logPeerConnected(const QUuid &peerID, const SockAddr &socket) {
    const NetworkPeer peer = _gatekeeper->icePeer(peerID);
    QString path = socket == peer.getLocalSocket()    ? QStringLiteral("local")
                   : socket == peer.getPublicSocket() ? QStringLiteral("public")
                                                      : QStringLiteral("symmetric");
    if (_relay->isRelayedPath(socket)) {
        path = QStringLiteral("relay %1").arg(_relay->relayedAddress().toString());
    } else if (_gatekeeper->isRelayedPath(socket)) {
        path = QStringLiteral("the client's relay");
    }
    qCInfo(domain_server).noquote() << "client" << peerID.toString(QUuid::WithoutBraces) << "reached us at"
                                    << socket.toString() << "via" << path;
}

DomainServer::~DomainServer() = default;

bool DomainServer::start() {
    bool created = false;
    if (!_keys->loadOrCreate(&created)) {
        fail(Error::KeypairError, _keys->errorString());
        return false;
    }
    const QString id = _settings.domainID.toString(QUuid::WithoutBraces);
    if (created) {
        qCInfo(domain_server).noquote() << "created keypair" << _settings.keypairPath << "for domain" << id
                                        << "(mode 0600); its public key is in" << _keys->publicKeyPath();
        if (_metaverse) {
            _metaverse->uploadPublicKey(_keys->privateKey().publicKey().toPkcs1Der());
        } else {
            qCInfo(domain_server).noquote() << "copy" << _keys->publicKeyPath()
                                            << "into the ice-server's key directory as" << id + QStringLiteral(".pem");
        }
    }
    if (!_settings.stunServer.isEmpty()) {
        if (!_nodeList->setStunServer(_settings.stunServer)) {
            fail(Error::BadStunServer, QStringLiteral("bad STUN server \"%1\"").arg(_settings.stunServer));
            return false;
        }
        _nodeList->startSTUNPublicSocketUpdate();
    }
    qCInfo(domain_server).noquote() << "domain" << id << "listening on UDP port" << _nodeList->getLocalPort();
    _heartbeater->setPrivateKey(_keys->privateKey());
    updateSockets();
    _started = true;
    _relay->start();
    if (!_relay->holdsHeartbeats()) {
        startHeartbeats();
    } // else once the relay is open to the ice-server (or has failed)
    _selector->start();
    return true;
}

void DomainServer::startHeartbeats() {
    if (!_heartbeatsStarted) {
        _heartbeatsStarted = true;
        _heartbeater->start(_settings.heartbeatIntervalMs);
    }
}

void DomainServer::updateSockets() {
    // A relaying domain is reached at its relayed address: that is its public socket.
    const SockAddr publicSocket = _relay->isRelaying() ? _relay->relayedAddress() : _nodeList->getPublicSockAddr();
    _heartbeater->setSockets(publicSocket, _nodeList->getLocalSockAddr());
    // Register with the public socket STUN finds rather than with none (an ice-server would name
    // only our LAN address): heartbeats wait for STUN's first answer, or for its verdict that
    // none comes (about 2.75 s), and the one held goes out as soon as either arrives.
    const bool stunPending = _nodeList->hasStunServer() && !_nodeList->hasCompletedInitialSTUN();
    _heartbeater->setAwaitingPublicSocket(!_relay->isRelaying() && stunPending);
}

void DomainServer::handleIceServerChanged(const SockAddr &iceServer, const QString &label) {
    qCInfo(domain_server_ice).noquote() << "using ice-server" << label;
    if (iceServer.getAddress().protocol() == QAbstractSocket::IPv4Protocol) {
        // Our local socket is the address the kernel routes from towards the ice-server.
        _nodeList->setLocalSocketProbeTarget(iceServer.getAddress());
    }
    if (_settings.stunServer.isEmpty()) {
        // The ice-server answers STUN on its own port: one address to configure instead of two.
        _nodeList->setStunServer(iceServer.getAddress().toString(), iceServer.getPort());
        _nodeList->startSTUNPublicSocketUpdate();
    }
    _relay->setIceServer(iceServer);
    updateSockets();
    _heartbeater->setIceServer(iceServer);
}

void DomainServer::handleIceServerUnresponsive(const SockAddr &iceServer) {
    qCDebug(domain_server_ice).noquote() << "failing over from" << iceServer.toString();
    if (_metaverse) {
        _metaverse->updateIceServerAddress(QStringLiteral("0.0.0.0"));
    }
    _selector->failCurrent();
}

void DomainServer::handleRegistered(const SockAddr &iceServer) {
    _keys->keyAccepted();
    if (_metaverse) {
        _metaverse->updateIceServerAddress(iceServer.getAddress().toString());
    }
}

void DomainServer::fail(Error error, const QString &text) {
    _error = error;
    _errorString = text;
    qCCritical(domain_server).noquote() << text;
    Q_EMIT errorOccurred(error, text);
}

#include "IceClientApp.h"

#include <LimitedNodeList.h>
#include <NodeList.h>
#include <RelayOptions.h>

#include <QtCore/QTimer>

#include <cstdio>

namespace {
constexpr int PAUSE_BETWEEN_CYCLES_MS = 400;
} // namespace

IceClientApp::IceClientApp(const Options &options, QObject *parent)
    : QObject(parent), _options(options), _out(stdout), _err(stderr) {}

QString IceClientApp::prefix() const {
    return QStringLiteral("cycle %1/%2: ").arg(_cycle).arg(_options.cycles);
}

void IceClientApp::start() {
    startCycle();
}

void IceClientApp::startCycle() {
    ++_cycle;
    const bool reuse = _options.cacheStun && _limitedNodeList;
    if (!reuse) {
        // Upstream's tool opens a fresh socket every cycle, so every cycle is a first contact.
        delete _nodeList;
        delete _limitedNodeList;
        _limitedNodeList = new LimitedNodeList(quint16(0), this);
        if (!_limitedNodeList->isBound()) {
            finish(IceExitCode::UsageError, _limitedNodeList->errorString());
            return;
        }
        QString relayError;
        if (!RelayOptions::apply(_options.relay, _limitedNodeList, &relayError)) {
            finish(IceExitCode::UsageError, relayError);
            return;
        }
        if (TurnClient *turn = _limitedNodeList->getTurnClient()) {
            turn->setTiming(RelayFallback::clientTiming());
            turn->setSoftware(QByteArrayLiteral("icebreaker ice-client"));
        }
        _nodeList = new NodeList(_limitedNodeList, this);
        _nodeList->setRelayMode(_options.relay.mode);
        connect(&_nodeList->relayFallback(), &RelayFallback::unavailable, this, [this](const QString &why) {
            _out << prefix() << "relay unavailable, going on directly: " << why << Qt::endl;
        });
        _nodeList->setMaxUnansweredQueries(_options.maxQueries);
        _nodeList->setMaxPunchAttempts(1);
        _nodeList->setPunchTtlSchedule(_options.punchTtl);
        DomainHandler &handler = _nodeList->getDomainHandler();
        connect(&handler, &DomainHandler::completedSocketDiscovery, this,
                [this, &handler] { discovered(handler.getSockAddr()); });
        connect(&handler, &DomainHandler::errorOccurred, this, &IceClientApp::failed);
        connect(_limitedNodeList, &LimitedNodeList::initialSTUNCompleted, this, &IceClientApp::stunCompleted);

        _stepClock.start();
        const QString stunHost = _options.stunHost.isEmpty() ? _options.iceServerHost : _options.stunHost;
        const quint16 stunPort = _options.stunHost.isEmpty() ? _options.iceServerPort : _options.stunPort;
        _limitedNodeList->setStunServer(stunHost, stunPort);
        _limitedNodeList->startSTUNPublicSocketUpdate();
        return; // stunCompleted() goes on
    }
    _out << prefix() << "reusing local port " << _limitedNodeList->getLocalPort() << " and public socket "
         << _limitedNodeList->getPublicSockAddr().toString() << Qt::endl;
    _stepClock.start();
    _nodeList->getDomainHandler().reconnectThroughIce();
}

void IceClientApp::stunCompleted(bool succeeded) {
    if (_done || _nodeList->getDomainHandler().requiresICE()) {
        return; // a later STUN run (10 s refresh) is no new step
    }
    if (!succeeded && _options.stunHost.isEmpty()) {
        // The STUN server defaulted to the ice-server; an Overte ice-server does not answer STUN.
        _out << prefix() << "ice-server " << _limitedNodeList->getStunSockAddr().toString()
             << " does not answer STUN; going on without a public socket" << Qt::endl;
    } else if (!succeeded) {
        finish(IceExitCode::StunFailed, QStringLiteral("%1STUN server %2 did not answer (%3 requests)")
                                            .arg(prefix(), _limitedNodeList->getStunSockAddr().isNull()
                                                               ? _options.stunHost
                                                               : _limitedNodeList->getStunSockAddr().toString())
                                            .arg(LimitedNodeList::MAX_INITIAL_STUN_REQUESTS + 1));
        return;
    } else {
        _out << prefix() << "local " << _limitedNodeList->getLocalSockAddr().toString() << ", public "
             << _limitedNodeList->getPublicSockAddr().toString() << " by STUN in " << _stepClock.elapsed() << " ms"
             << Qt::endl;
    }
    _stepClock.start();
    // Without a domain, ask for a random one: only the ice-server's reachability is checked.
    const QUuid domainID = _options.domainID.isNull() ? QUuid::createUuid() : _options.domainID;
    _nodeList->getDomainHandler().setIceServerHostPortAndID(_options.iceServerHost, _options.iceServerPort, domainID);
}

void IceClientApp::discovered(const SockAddr &socket) {
    const DomainHandler &handler = _nodeList->getDomainHandler();
    _out << prefix() << "domain " << handler.getPendingDomainID().toString(QUuid::WithoutBraces) << " (public "
         << handler.getICEPeer().getPublicSocket().toString() << ", local "
         << handler.getICEPeer().getLocalSocket().toString() << ") answered at " << socket.toString() << " via "
         << _nodeList->domainPathName() << " in " << _stepClock.elapsed() << " ms";
    if (_nodeList->discoveryRttMs() >= 0) {
        _out << ", rtt " << QString::number(_nodeList->discoveryRttMs(), 'f', 2) << " ms";
    }
    _out << Qt::endl;
    cycleDone();
}

void IceClientApp::failed(DomainHandler::Error error, const QString &errorString) {
    if (_options.domainID.isNull() && error == DomainHandler::Error::DomainUnknown) {
        _out << prefix() << "ice-server " << _nodeList->getDomainHandler().getIceServerSockAddr().toString()
             << " is reachable (no --domain-id given, so nothing more to check)" << Qt::endl;
        cycleDone();
        return;
    }
    if (error != DomainHandler::Error::NoError) {
        finish(IceExitCode::forError(error), prefix() + errorString);
    }
}

void IceClientApp::releaseRelay() {
    if (_limitedNodeList) {
        _limitedNodeList->releaseTurn();
    }
}

void IceClientApp::cycleDone() {
    if (_cycle >= _options.cycles) {
        _out << "all " << _options.cycles << " cycles succeeded" << Qt::endl;
        finish(IceExitCode::Success);
        return;
    }
    QTimer::singleShot(PAUSE_BETWEEN_CYCLES_MS, this, &IceClientApp::startCycle);
}

void IceClientApp::finish(int exitCode, const QString &message) {
    if (_done) {
        return;
    }
    _done = true;
    if (!message.isEmpty()) {
        _err << "ice-client: " << message << Qt::endl;
    }
    if (_nodeList) {
        _nodeList->stop();
    }
    if (_limitedNodeList) {
        _limitedNodeList->stopSTUNPublicSocketUpdate();
    }
    Q_EMIT finished(exitCode);
}

#include "StubClient.h"

#include <LimitedNodeList.h>
#include <NodeList.h>

#include <cstdio>

namespace {
PingType pingTypeFor(NetworkPeer::ActiveSocket kind) {
    switch (kind) {
    case NetworkPeer::ActiveSocket::Local: return PingType::Local;
    case NetworkPeer::ActiveSocket::Public: return PingType::Public;
    case NetworkPeer::ActiveSocket::Symmetric: return PingType::Symmetric;
    case NetworkPeer::ActiveSocket::None: break;
    }
    return PingType::Agnostic;
}
} // namespace

StubClient::StubClient(NodeList *nodeList, const Options &options, QObject *parent)
    : QObject(parent), _nodeList(nodeList), _handler(nodeList->getDomainHandler()), _options(options), _out(stdout),
      _err(stderr) {
    connect(&_handler, &DomainHandler::completedSocketDiscovery, this, [this] { connected(_handler.getSockAddr()); });
    connect(&_handler, &DomainHandler::errorOccurred, this, &StubClient::failed);
    connect(&nodeList->relayFallback(), &RelayFallback::unavailable, this, [this](const QString &why) {
        _err << "interface-stub: relay unavailable, going on directly: " << why << Qt::endl;
    });
    connect(&_handler, &DomainHandler::domainPingReplyReceived, this, &StubClient::keepaliveReply);
    connect(_nodeList, &NodeList::domainPingAnswered, this, [this] {
        _domainPingAnswered = true;
        if (_linger.isActive()) {
            finish(IceExitCode::Success);
        }
    });
    connect(_nodeList, &NodeList::punchAttemptFailed, this, [this] { _domainPingAnswered = false; });
    _linger.setSingleShot(true);
    connect(&_linger, &QTimer::timeout, this, [this] { finish(IceExitCode::Success); });
    _connectDeadline.setSingleShot(true);
    connect(&_connectDeadline, &QTimer::timeout, this, &StubClient::connectTimedOut);
    _keepaliveTimer.setInterval(_options.keepaliveIntervalMs);
    connect(&_keepaliveTimer, &QTimer::timeout, this, &StubClient::sendKeepalivePing);
    _keepaliveEnd.setSingleShot(true);
    connect(&_keepaliveEnd, &QTimer::timeout, this, &StubClient::keepaliveEnded);
}

void StubClient::start() {
    _connectClock.start();
    _connectDeadline.start(_options.timeoutMs);
    _handler.setIceServerHostPortAndID(_options.iceServerHost, _options.iceServerPort, _options.domainID);
}

void StubClient::connected(const SockAddr &socket) {
    _connectDeadline.stop();
    _out << (_reconnecting ? "reconnected" : "connected") << " to domain "
         << _options.domainID.toString(QUuid::WithoutBraces) << " at " << socket.toString() << " via "
         << _nodeList->domainPathName() << " in " << _connectClock.elapsed() << " ms";
    if (_nodeList->discoveryRttMs() >= 0) {
        _out << ", rtt " << QString::number(_nodeList->discoveryRttMs(), 'f', 2) << " ms";
    }
    _out << Qt::endl;
    _reconnecting = false;
    if (_options.keepaliveMs <= 0) {
        if (_domainPingAnswered) {
            finish(IceExitCode::Success);
        } else {
            _linger.start(LingerMs);
        }
        return;
    }
    if (_keepaliveExpired) {
        keepaliveEnded();
        return;
    }
    if (!_keepaliveEnd.isActive() && _pingsSent == 0) {
        _keepaliveEnd.start(_options.keepaliveMs);
    }
    _awaitingReply = false;
    _lastReply.start();
    _keepaliveTimer.start();
    sendKeepalivePing();
}

void StubClient::failed(DomainHandler::Error error, const QString &errorString) {
    if (_done) {
        return;
    }
    _err << "interface-stub: " << DomainHandler::errorName(error) << ": " << errorString << Qt::endl;
    finish(IceExitCode::forError(error));
}

void StubClient::connectTimedOut() {
    const DomainHandler::Error reason = _handler.diagnose();
    _nodeList->stop();
    QString detail;
    switch (reason) {
    case DomainHandler::Error::IceServerSilent:
        detail = QStringLiteral("nothing came back from ice-server %1 in %2 s")
                     .arg(_handler.getIceServerSockAddr().isNull() ? _options.iceServerHost
                                                                   : _handler.getIceServerSockAddr().toString())
                     .arg(_options.timeoutMs / 1000.0);
        break;
    case DomainHandler::Error::DomainUnknown:
        detail = QStringLiteral("ice-server %1 answers but sent no peer information for domain %2 in %3 s "
                                "(not registered there, or its heartbeats are not verified)")
                     .arg(_handler.getIceServerSockAddr().toString(), _options.domainID.toString(QUuid::WithoutBraces))
                     .arg(_options.timeoutMs / 1000.0);
        break;
    case DomainHandler::Error::PunchFailed:
        detail = QStringLiteral("the domain's sockets are known but no ping got a reply in %1 s")
                     .arg(_options.timeoutMs / 1000.0);
        break;
    default: detail = QStringLiteral("timed out after %1 s").arg(_options.timeoutMs / 1000.0); break;
    }
    failed(reason, detail);
}

void StubClient::sendKeepalivePing() {
    if (_awaitingReply && _lastReply.elapsed() >= _options.pathLostMs) {
        ++_pathsLost;
        _keepaliveTimer.stop();
        _out << "path lost to domain " << _options.domainID.toString(QUuid::WithoutBraces) << " at "
             << _handler.getSockAddr().toString() << ": no reply for " << _lastReply.elapsed()
             << " ms; reconnecting through the ice-server" << Qt::endl;
        _reconnecting = true;
        _connectClock.start();
        _connectDeadline.start(_options.timeoutMs);
        _nodeList->reconnectThroughIce();
        return;
    }
    if (_nodeList->sendPingToDomain(pingTypeFor(_handler.getICEPeer().activeSocketKind()))) {
        ++_pingsSent;
        _lastPingSent.start();
        _awaitingReply = true;
    }
}

void StubClient::keepaliveReply(const SockAddr &sender) {
    if (!_awaitingReply) {
        return; // a duplicate, or a reply to a ping already counted
    }
    _awaitingReply = false;
    _lastReply.start();
    ++_repliesReceived;
    const double rtt = _lastPingSent.nsecsElapsed() / 1e6;
    _rttMin = _repliesReceived == 1 ? rtt : qMin(_rttMin, rtt);
    _rttMax = qMax(_rttMax, rtt);
    _rttSum += rtt;
    _out << "reply from " << sender.toString() << " rtt " << QString::number(rtt, 'f', 2) << " ms" << Qt::endl;
}

void StubClient::keepaliveEnded() {
    _keepaliveExpired = true;
    if (_reconnecting) {
        // Still reconnecting when keepalive ends: that reconnection decides the outcome.
        return;
    }
    _keepaliveTimer.stop();
    _out << "keepalive done: " << _pingsSent << " pings, " << _repliesReceived << " replies";
    if (_repliesReceived > 0) {
        _out << ", rtt min/avg/max " << QString::number(_rttMin, 'f', 2) << '/'
             << QString::number(_rttSum / _repliesReceived, 'f', 2) << '/' << QString::number(_rttMax, 'f', 2) << " ms";
    }
    _out << ", paths lost " << _pathsLost << Qt::endl;
    finish(IceExitCode::Success);
}

void StubClient::finish(int exitCode) {
    if (_done) {
        return;
    }
    _done = true;
    _linger.stop();
    _connectDeadline.stop();
    _keepaliveTimer.stop();
    _keepaliveEnd.stop();
    _nodeList->stop();
    Q_EMIT finished(exitCode);
}

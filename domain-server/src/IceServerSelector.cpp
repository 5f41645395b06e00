#include "IceServerSelector.h"

#include "DomainServerLogging.h"

#include <QtNetwork/QHostInfo>

IceServerSelector::IceServerSelector(const QList<HostAndPort> &servers, QObject *parent)
    : QObject(parent), _servers(servers) {
    for (const HostAndPort &spec : servers) {
        _entries.append({ spec, {}, false });
    }
}

IceServerSelector::~IceServerSelector() {
    for (const int id : qAsConst(_pendingLookups)) {
        QHostInfo::abortHostLookup(id);
    }
}

void IceServerSelector::start() {
    for (int i = 0; i < _entries.size(); ++i) {
        lookUp(i);
    }
    if (_entries.isEmpty()) {
        _finishedReported = true;
        Q_EMIT resolutionFinished();
    }
}

void IceServerSelector::lookUp(int serverIndex) {
    const QString host = _entries[serverIndex].spec.host;
    QHostAddress literal;
    if (literal.setAddress(host)) {
        setResolvedAddresses(serverIndex, { literal });
        return;
    }
    _pendingLookups.insert(QHostInfo::lookupHost(
        host, this, [this, serverIndex](const QHostInfo &info) { handleLookup(serverIndex, info); }));
}

void IceServerSelector::handleLookup(int serverIndex, const QHostInfo &info) {
    _pendingLookups.remove(info.lookupId());
    if (serverIndex >= _entries.size()) {
        return;
    }
    QList<QHostAddress> addresses;
    for (const QHostAddress &address : info.addresses()) {
        if (!address.isNull() && !addresses.contains(address)) {
            addresses.append(address);
        }
    }
    if (addresses.isEmpty()) {
        const QString why = info.error() != QHostInfo::NoError ? info.errorString() : QStringLiteral("no addresses");
        qCWarning(domain_server_ice).noquote()
            << "cannot resolve ice-server" << _entries[serverIndex].spec.toString() << "-" << why;
        _entries[serverIndex].answered = true;
        Q_EMIT resolutionFailed(_entries[serverIndex].spec.host, why);
        // Keep what an earlier lookup found: a passing DNS failure should not drop a working server.
        setResolvedAddresses(serverIndex, _entries[serverIndex].addresses);
        return;
    }
    setResolvedAddresses(serverIndex, addresses);
}

void IceServerSelector::setResolvedAddresses(int serverIndex, const QList<QHostAddress> &addresses) {
    if (serverIndex < 0 || serverIndex >= _entries.size()) {
        return;
    }
    _entries[serverIndex].addresses = addresses;
    _entries[serverIndex].answered = true;

    // The current choice keeps its place in the new list, if it is still there.
    if (_currentIndex >= 0) {
        const QList<Candidate> list = flatCandidates();
        _currentIndex = -1;
        for (int i = 0; i < list.size(); ++i) {
            if (list[i].server == _currentServer && list[i].socket == _currentSocket) {
                _currentIndex = i;
            }
        }
        if (_currentIndex < 0) {
            _currentSocket = {};
            _currentServer = -1;
        }
    }
    pickFirstIfNone();

    if (!_finishedReported) {
        bool all = true;
        for (const Entry &entry : _entries) {
            all = all && entry.answered;
        }
        if (all) {
            _finishedReported = true;
            Q_EMIT resolutionFinished();
        }
    }
}

QList<IceServerSelector::Candidate> IceServerSelector::flatCandidates() const {
    QList<Candidate> list;
    for (int s = 0; s < _entries.size(); ++s) {
        for (const QHostAddress &address : _entries[s].addresses) {
            list.append({ s, SockAddr(address, _entries[s].spec.port) });
        }
    }
    return list;
}

QList<SockAddr> IceServerSelector::candidates() const {
    QList<SockAddr> out;
    for (const Candidate &candidate : flatCandidates()) {
        out.append(candidate.socket);
    }
    return out;
}

SockAddr IceServerSelector::current() const {
    return _currentSocket;
}

QString IceServerSelector::currentLabel() const {
    if (_currentServer < 0) {
        return QStringLiteral("(none)");
    }
    return QStringLiteral("%1 (%2)").arg(_entries[_currentServer].spec.toString(), _currentSocket.toString());
}

bool IceServerSelector::isKnownIceServerAddress(const QHostAddress &address) const {
    for (const Entry &entry : _entries) {
        for (const QHostAddress &known : entry.addresses) {
            if (known.isEqual(address, QHostAddress::ConvertV4MappedToIPv4)) {
                return true;
            }
        }
    }
    return false;
}

void IceServerSelector::pickFirstIfNone() {
    if (_currentIndex >= 0) {
        return;
    }
    const QList<Candidate> list = flatCandidates();
    if (!list.isEmpty()) {
        select(0, list);
    }
}

void IceServerSelector::select(int flatIndex, const QList<Candidate> &list) {
    _currentIndex = flatIndex;
    _currentServer = list[flatIndex].server;
    _currentSocket = list[flatIndex].socket;
    Q_EMIT currentChanged(_currentSocket, currentLabel());
}

void IceServerSelector::failCurrent() {
    const QList<Candidate> list = flatCandidates();
    if (list.isEmpty()) {
        // Nothing resolved yet (or any more): ask DNS again.
        for (int i = 0; i < _entries.size(); ++i) {
            lookUp(i);
        }
        return;
    }
    int next = _currentIndex + 1;
    if (next >= list.size()) {
        next = 0;
        qCWarning(domain_server_ice) << "every ice-server address has been tried; starting over and refreshing DNS";
        // Refresh names for the next lap; the current lap continues with what is known.
        for (int i = 0; i < _entries.size(); ++i) {
            lookUp(i);
        }
    }
    select(next, list);
}

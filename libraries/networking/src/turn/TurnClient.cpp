#include "TurnClient.h"

#include <NetworkLogging.h>

#include <QtCore/QTimer>

#include <algorithm>
#include <functional>

namespace {

QTimer *makeTimer(QObject *owner, std::function<void()> onTimeout) {
    auto *timer = new QTimer(owner);
    timer->setSingleShot(true);
    QObject::connect(timer, &QTimer::timeout, owner, std::move(onTimeout));
    return timer;
}

// A timer may be the one whose timeout is being handled right now: stop it and let the event loop
// delete it (or its owner's destructor, whichever comes first).
void dropTimer(QTimer *timer) {
    if (timer) {
        timer->stop();
        timer->deleteLater();
    }
}

const char *methodName(quint16 method) {
    switch (method) {
    case TurnMessage::Allocate: return "Allocate";
    case TurnMessage::Refresh: return "Refresh";
    case TurnMessage::CreatePermission: return "CreatePermission";
    case TurnMessage::ChannelBind: return "ChannelBind";
    default: return "request";
    }
}

QByteArray freshTransactionId(quint16 method) {
    return TurnMessage::create(TurnMessage::Method(method)).transactionId;
}

// A Refresh with LIFETIME 0 (RFC 8656 7): it ends the allocation of the 5-tuple it comes from.
TurnMessage endingRefresh() {
    TurnMessage request = TurnMessage::create(TurnMessage::Refresh);
    request.lifetime = 0;
    return request;
}

bool isEndingRefresh(const TurnMessage &request) {
    return request.method == TurnMessage::Refresh && request.lifetime && *request.lifetime == 0;
}

} // namespace

struct TurnClient::Transaction {
    TurnMessage request; // as built, before signing: a stale nonce means signing it again
    QByteArray bytes;    // what goes on the wire; retransmissions repeat it
    int transmissions = 0;
    int authRetries = 0; // 401/438 rounds behind this request
    bool isSigned = false;
    QTimer *timer = nullptr;
};

struct TurnClient::Permission {
    bool inFlight = false;
    bool confirmed = false;
    int unanswered = 0; // requests in a row that went unanswered
    QTimer *refresh = nullptr;
};

struct TurnClient::Channel {
    quint16 number = 0;
    bool inFlight = false;
    bool confirmed = false;
    int unanswered = 0;
    QTimer *refresh = nullptr;
};

namespace {
// CreatePermission / ChannelBind requests in a row left unanswered before the permission or channel is
// given up (the allocation stays).
constexpr int MaxUnansweredPeerRequests = 3;
} // namespace

int TurnClient::Timing::waitAfterTransmissionMs(int n) const {
    if (n >= maxTransmissions - 1) {
        return initialRtoMs * finalWaitFactor;
    }
    return initialRtoMs << std::min(n, 16);
}

int TurnClient::Timing::requestTimeoutMs() const {
    int total = 0;
    for (int n = 0; n < maxTransmissions; ++n) {
        total += waitAfterTransmissionMs(n);
    }
    return total;
}

int TurnClient::Timing::refreshAfterMs(int lifetimeSec) const {
    const qint64 lifetimeMs = qint64(std::max(lifetimeSec, 2)) * 1000;
    const qint64 marginMs = std::min<qint64>(qint64(refreshMarginSec) * 1000, lifetimeMs / 2);
    return int(std::min<qint64>(lifetimeMs - marginMs, 24 * 3600 * 1000));
}

TurnClient::TurnClient(UdpTransport *transport, const SockAddr &server, const TurnCredentials &credentials,
                       QObject *parent)
    : QObject(parent), _transport(transport), _server(server), _credentials(credentials) {
    _refreshTimer = makeTimer(this, [this]() { sendRefresh(_timing.requestedLifetimeSec); });
    _allocateRetryTimer = makeTimer(this, [this]() {
        if (_state == Allocating) {
            startRequest(allocateRequest());
        }
    });
}

TurnClient::~TurnClient() {
    // Best effort, no answer awaited: the server frees the relay port now rather than at expiry.
    if (_state == Allocated && _transport) {
        TurnMessage request = endingRefresh();
        _transport->writeDatagram(sign(request), _server);
    }
    reset();
}

void TurnClient::allocate() {
    if (_state == Allocating || _state == Allocated || _state == Releasing) {
        return;
    }
    if (!_transport) {
        fail(Unreachable, QStringLiteral("TURN client has no transport to reach %1").arg(_server.toString()));
        return;
    }
    _error = NoError;
    _errorString.clear();
    _state = Allocating;
    _mismatchRetries = 0;
    startRequest(allocateRequest());
}

TurnMessage TurnClient::allocateRequest() const {
    TurnMessage request = TurnMessage::create(TurnMessage::Allocate);
    request.requestedTransport = TurnMessage::TransportUdp;
    if (_timing.requestedLifetimeSec > 0) {
        request.lifetime = _timing.requestedLifetimeSec;
    }
    return request;
}

void TurnClient::release() {
    if (_state == Releasing) {
        return;
    }
    if (_state != Allocated) {
        reset();
        _state = Idle;
        Q_EMIT released();
        return;
    }
    // Everything but the credentials goes: the Refresh must still be signed (and maybe re-signed).
    dropTransactions();
    dropPeers();
    _refreshTimer->stop();
    _state = Releasing;
    startRequest(endingRefresh());
}

void TurnClient::addPermission(const QHostAddress &peer) {
    if (peer.isNull() || _permissions.contains(peer)) {
        return;
    }
    auto *permission = new Permission;
    permission->refresh = makeTimer(this, [this, peer]() { sendPermission(peer); });
    _permissions.insert(peer, permission);
    if (_state == Allocated) {
        sendPermission(peer);
    }
}

bool TurnClient::bindChannel(const SockAddr &peer) {
    if (_channels.contains(peer)) {
        return true;
    }
    if (peer.isNull() || _nextChannel > ChannelData::LastChannel) {
        return false;
    }
    auto *channel = new Channel;
    channel->number = _nextChannel++;
    channel->refresh = makeTimer(this, [this, peer]() { sendChannelBind(peer); });
    _channels.insert(peer, channel);
    _channelPeers.insert(channel->number, peer);
    // The channel's refresh (RFC 8656 12: 10 min) outlasts a permission (5 min): keep one of its own.
    addPermission(peer.getAddress());
    if (_state == Allocated) {
        sendChannelBind(peer);
    }
    return true;
}

qint64 TurnClient::sendTo(const SockAddr &peer, const QByteArray &datagram) {
    if (_state != Allocated || !_transport || peer.isNull() || datagram.size() > MaxPayloadSize) {
        return -1;
    }
    addPermission(peer.getAddress());
    QByteArray bytes;
    const Channel *channel = _channels.value(peer);
    if (channel && channel->confirmed) {
        bytes = ChannelData { channel->number, datagram }.encode();
    } else {
        TurnMessage indication = TurnMessage::create(TurnMessage::Send, TurnMessage::Indication);
        indication.peerAddresses = { peer };
        indication.data = datagram;
        bytes = indication.encode();
    }
    // Normal TTL always: the punch's short-TTL rounds must never be applied to the relay.
    return _transport->writeDatagram(bytes, _server) < 0 ? -1 : datagram.size();
}

bool TurnClient::handleDatagram(const QByteArray &datagram, const SockAddr &sender) {
    if (sender != _server) {
        return false;
    }
    switch (turnFraming(datagram)) {
    case TurnFraming::ChannelData: onChannelData(datagram); return true;
    case TurnFraming::Stun: {
        const auto decoded = TurnMessage::decode(datagram);
        if (!decoded.ok()) {
            return false;
        }
        const TurnMessage &message = decoded.value;
        if (message.method == TurnMessage::Data && message.messageClass == TurnMessage::Indication) {
            onDataIndication(message);
            return true;
        }
        const bool response = message.messageClass == TurnMessage::SuccessResponse
                              || message.messageClass == TurnMessage::ErrorResponse;
        if (response && _transactions.contains(message.transactionId)) {
            onResponse(message, datagram);
            return true;
        }
        return false;
    }
    case TurnFraming::Other: break;
    }
    return false;
}

bool TurnClient::hasPermission(const QHostAddress &peer) const {
    const Permission *permission = _permissions.value(peer);
    return permission && permission->confirmed;
}

quint16 TurnClient::channelFor(const SockAddr &peer) const {
    const Channel *channel = _channels.value(peer);
    return channel && channel->confirmed ? channel->number : 0;
}

void TurnClient::startRequest(TurnMessage request, int authRetries) {
    auto *transaction = new Transaction;
    transaction->request = request;
    transaction->authRetries = authRetries;
    transaction->isSigned = !_key.isEmpty();
    transaction->bytes = sign(request);
    const QByteArray id = request.transactionId;
    transaction->timer = makeTimer(this, [this, id]() { transmit(id); });
    _transactions.insert(id, transaction);
    transmit(id);
}

void TurnClient::transmit(const QByteArray &transactionId) {
    Transaction *transaction = _transactions.value(transactionId);
    if (!transaction) {
        return;
    }
    if (transaction->transmissions >= _timing.maxTransmissions || !_transport) {
        onTimeout(transactionId);
        return;
    }
    if (transaction->transmissions > 0) {
        qCDebug(networking_turn) << "retransmitting" << methodName(transaction->request.method) << "to" << _server;
    }
    _transport->writeDatagram(transaction->bytes, _server);
    transaction->timer->start(_timing.waitAfterTransmissionMs(transaction->transmissions));
    ++transaction->transmissions;
}

QByteArray TurnClient::sign(TurnMessage &request) const {
    request.software = _software;
    if (_key.isEmpty()) {
        return request.encode(QByteArray(), true);
    }
    request.username = _credentials.username.toUtf8();
    request.realm = _realm;
    request.nonce = _nonce;
    return request.encode(_key, true);
}

void TurnClient::onResponse(const TurnMessage &response, const QByteArray &datagram) {
    Transaction *transaction = _transactions.value(response.transactionId);
    // A success without a valid MESSAGE-INTEGRITY may be forged: keep waiting for the real one.
    if (transaction->isSigned && response.messageClass == TurnMessage::SuccessResponse
        && !TurnMessage::checkIntegrity(datagram, _key)) {
        qCDebug(networking_turn) << "dropping a" << methodName(response.method)
                                 << "response whose MESSAGE-INTEGRITY does not verify";
        return;
    }
    _transactions.remove(response.transactionId);
    dropTimer(transaction->timer);
    const Transaction done = *transaction;
    delete transaction;

    if (response.messageClass == TurnMessage::ErrorResponse && retryWithFreshNonce(done, response)) {
        return;
    }
    switch (done.request.method) {
    case TurnMessage::Allocate: onAllocateResult(response); break;
    case TurnMessage::Refresh: onRefreshResult(done.request, response); break;
    case TurnMessage::CreatePermission: onPermissionResult(done.request, response); break;
    case TurnMessage::ChannelBind: onChannelResult(done.request, response); break;
    default: break;
    }
}

// The two error answers that are part of authenticating rather than failures (RFC 8489 9.2.5):
// 401 to a request sent without credentials brings the realm and a nonce, 438 a fresh nonce.
bool TurnClient::retryWithFreshNonce(const Transaction &transaction, const TurnMessage &response) {
    constexpr int maxAuthRounds = 3;
    if (response.nonce.isEmpty() || transaction.authRetries >= maxAuthRounds) {
        return false;
    }
    if (response.errorCode == TurnMessage::Unauthenticated && !transaction.isSigned) {
        if (_credentials.isEmpty() || response.realm.isEmpty()) {
            return false;
        }
        _realm = response.realm;
        _nonce = response.nonce;
        _key = TurnMessage::longTermKey(_credentials.username.toUtf8(), _realm, _credentials.password.toUtf8());
    } else if (response.errorCode == TurnMessage::StaleNonce && transaction.isSigned) {
        qCDebug(networking_turn) << "stale nonce from" << _server << "- signing again";
        _nonce = response.nonce;
        if (!response.realm.isEmpty() && response.realm != _realm) {
            _realm = response.realm;
            _key = TurnMessage::longTermKey(_credentials.username.toUtf8(), _realm, _credentials.password.toUtf8());
        }
    } else {
        return false;
    }
    TurnMessage again = transaction.request;
    again.transactionId = freshTransactionId(again.method); // a new request, not a retransmission
    startRequest(again, transaction.authRetries + 1);
    return true;
}

void TurnClient::onAllocateResult(const TurnMessage &response) {
    if (_state != Allocating) {
        return;
    }
    if (response.messageClass == TurnMessage::ErrorResponse) {
        if (response.errorCode == TurnMessage::Unauthenticated) {
            fail(Unauthorized,
                 _credentials.isEmpty()
                     ? QStringLiteral("TURN server %1 asks for credentials and none are configured")
                           .arg(_server.toString())
                     : QStringLiteral("TURN server %1 rejected the credentials of user \"%2\" in realm \"%3\" (%4)")
                           .arg(_server.toString(), _credentials.username, QString::fromUtf8(_realm),
                                describe(response)));
        } else if (response.errorCode == TurnMessage::AllocationMismatch
                   && _mismatchRetries < _timing.maxMismatchRetries) {
            retryAfterMismatch(response);
        } else {
            fail(AllocationFailed, QStringLiteral("TURN server %1 refused the allocation: %2")
                                       .arg(_server.toString(), describe(response)));
        }
        return;
    }
    if (response.relayedAddress.isNull()) {
        fail(AllocationFailed,
             QStringLiteral("TURN server %1 allocated without a XOR-RELAYED-ADDRESS").arg(_server.toString()));
        return;
    }
    _relayed = response.relayedAddress;
    _mapped = response.mappedAddress;
    _state = Allocated;
    const quint32 lifetime = response.lifetime.value_or(600);
    scheduleRefresh(lifetime);
    qCInfo(networking_turn).noquote() << "TURN allocation on" << _server.toString() << "- relayed"
                                      << _relayed.toString() << "mapped" << _mapped.toString() << "lifetime" << lifetime
                                      << "s";
    setUpPending();
    Q_EMIT allocated(_relayed, _mapped);
}

// A 437 to our Allocate: the server holds an allocation for our 5-tuple (our address as it sees it,
// and its own) that this client did not make. A node restarted on the same port leaves one behind:
// after a crash until its lifetime ends, and even after a clean release coturn still answers 437 for
// a moment. RFC 8656 7.3 has the client try another local port; this socket is the node's only one,
// so the client ends that allocation instead (a Refresh of LIFETIME 0 from the same 5-tuple with the
// same credentials is what the predecessor would have sent) and asks again a moment later.
//
// coturn lets the 5-tuple go about 1.2 s after the allocation ends (its clock ticks in seconds), and a
// second Refresh in that time starts the wait again: one Refresh (retransmitted like any request),
// then Allocate retries 1 s and 2 s later.
void TurnClient::retryAfterMismatch(const TurnMessage &response) {
    const int delayMs = _timing.mismatchRetryDelayMs << std::min(_mismatchRetries, 8);
    ++_mismatchRetries;
    qCWarning(networking_turn).noquote()
        << QStringLiteral("TURN server %1 already holds an allocation for our address (%2), left by an earlier run "
                          "on this port? %3 again in %4 ms (retry %5 of %6)")
               .arg(_server.toString(), describe(response),
                    _mismatchRetries == 1 ? QStringLiteral("Ending it and allocating") : QStringLiteral("Allocating"))
               .arg(delayMs)
               .arg(_mismatchRetries)
               .arg(_timing.maxMismatchRetries);
    if (_mismatchRetries == 1) {
        // Unsigned when the 437 came before any 401 (coturn checks the 5-tuple first): the server's
        // 401 then brings the realm and nonce, and the Refresh goes again signed (retryWithFreshNonce).
        startRequest(endingRefresh());
    }
    _allocateRetryTimer->start(delayMs);
}

void TurnClient::onRefreshResult(const TurnMessage &request, const TurnMessage &response) {
    if (isEndingRefresh(request)) {
        if (_state == Releasing) {
            qCInfo(networking_turn).noquote() << "TURN allocation on" << _server.toString() << "released";
            reset();
            _state = Idle;
            Q_EMIT released();
        }
        return;
    }
    if (_state != Allocated) {
        return;
    }
    if (response.messageClass == TurnMessage::ErrorResponse) {
        fail(response.errorCode == TurnMessage::Unauthenticated ? Unauthorized : AllocationLost,
             QStringLiteral("TURN server %1 refused to refresh the allocation: %2")
                 .arg(_server.toString(), describe(response)));
        return;
    }
    const quint32 lifetime = response.lifetime.value_or(600);
    scheduleRefresh(lifetime);
    qCDebug(networking_turn) << "TURN allocation refreshed for" << lifetime << "s";
    Q_EMIT refreshed(lifetime);
}

void TurnClient::onPermissionResult(const TurnMessage &request, const TurnMessage &response) {
    if (request.peerAddresses.isEmpty() || _state != Allocated) {
        return;
    }
    const QHostAddress peer = request.peerAddresses.first().getAddress();
    Permission *permission = _permissions.value(peer);
    if (!permission) {
        return;
    }
    permission->inFlight = false;
    if (response.messageClass == TurnMessage::ErrorResponse) {
        if (response.errorCode == TurnMessage::Unauthenticated) {
            fail(Unauthorized, QStringLiteral("TURN server %1 no longer accepts our credentials: %2")
                                   .arg(_server.toString(), describe(response)));
            return;
        }
        dropTimer(permission->refresh);
        delete permission;
        _permissions.remove(peer);
        report(PermissionFailed, QStringLiteral("TURN server %1 refused a permission for %2: %3")
                                     .arg(_server.toString(), peer.toString(), describe(response)));
        return;
    }
    permission->confirmed = true;
    permission->unanswered = 0;
    permission->refresh->start(_timing.refreshAfterMs(_timing.permissionLifetimeSec));
    Q_EMIT permissionCreated(peer);
}

void TurnClient::onChannelResult(const TurnMessage &request, const TurnMessage &response) {
    if (request.peerAddresses.isEmpty() || _state != Allocated) {
        return;
    }
    const SockAddr peer = request.peerAddresses.first();
    Channel *channel = _channels.value(peer);
    if (!channel) {
        return;
    }
    channel->inFlight = false;
    if (response.messageClass == TurnMessage::ErrorResponse) {
        if (response.errorCode == TurnMessage::Unauthenticated) {
            fail(Unauthorized, QStringLiteral("TURN server %1 no longer accepts our credentials: %2")
                                   .arg(_server.toString(), describe(response)));
            return;
        }
        const quint16 number = channel->number;
        dropTimer(channel->refresh);
        delete channel;
        _channels.remove(peer);
        _channelPeers.remove(number);
        report(ChannelBindFailed,
               QStringLiteral("TURN server %1 refused channel 0x%2 for %3: %4")
                   .arg(_server.toString(), QString::number(number, 16), peer.toString(), describe(response)));
        return;
    }
    channel->confirmed = true;
    channel->unanswered = 0;
    channel->refresh->start(_timing.refreshAfterMs(_timing.channelLifetimeSec));
    Q_EMIT channelBound(peer, channel->number);
}

void TurnClient::onTimeout(const QByteArray &transactionId) {
    Transaction *transaction = _transactions.take(transactionId);
    if (!transaction) {
        return;
    }
    dropTimer(transaction->timer);
    const TurnMessage request = transaction->request;
    const int transmissions = transaction->transmissions;
    delete transaction;
    if (isEndingRefresh(request)) {
        if (_state != Releasing) {
            return; // ending a predecessor's allocation after a 437: the Allocate retry tells
        }
        qCWarning(networking_turn).noquote()
            << "TURN server" << _server.toString() << "did not confirm the release; the allocation expires on its own";
        reset();
        _state = Idle;
        Q_EMIT released();
        return;
    }
    if (_state == Allocated && !request.peerAddresses.isEmpty()
        && (request.method == TurnMessage::CreatePermission || request.method == TurnMessage::ChannelBind)) {
        onPeerRequestUnanswered(request);
        return;
    }
    fail(Unreachable, QStringLiteral("TURN server %1 did not answer %2 (%3 transmissions over %4 s)")
                          .arg(_server.toString(), QString::fromLatin1(methodName(request.method)))
                          .arg(transmissions)
                          .arg(_timing.requestTimeoutMs() / 1000.0, 0, 'f', 1));
}

// A CreatePermission or ChannelBind on a live allocation that got no answer: under loss every
// transmission of one request can go, and that says nothing of the allocation (a dead server shows in
// the next Refresh). Ask again with a new request; after a few in a row, give that permission or
// channel up (reported as refused; addPermission / bindChannel start over).
void TurnClient::onPeerRequestUnanswered(const TurnMessage &request) {
    const SockAddr peer = request.peerAddresses.first();
    if (request.method == TurnMessage::CreatePermission) {
        Permission *permission = _permissions.value(peer.getAddress());
        if (!permission) {
            return;
        }
        permission->inFlight = false;
        if (++permission->unanswered < MaxUnansweredPeerRequests) {
            qCDebug(networking_turn) << "CreatePermission for" << peer.getAddress() << "unanswered; asking again";
            sendPermission(peer.getAddress());
            return;
        }
        dropTimer(permission->refresh);
        delete permission;
        _permissions.remove(peer.getAddress());
        report(PermissionFailed, QStringLiteral("TURN server %1 did not answer %2 CreatePermission requests for %3")
                                     .arg(_server.toString())
                                     .arg(MaxUnansweredPeerRequests)
                                     .arg(peer.getAddress().toString()));
        return;
    }
    Channel *channel = _channels.value(peer);
    if (!channel) {
        return;
    }
    channel->inFlight = false;
    if (++channel->unanswered < MaxUnansweredPeerRequests) {
        qCDebug(networking_turn) << "ChannelBind for" << peer << "unanswered; asking again";
        sendChannelBind(peer);
        return;
    }
    const quint16 number = channel->number;
    dropTimer(channel->refresh);
    delete channel;
    _channels.remove(peer);
    _channelPeers.remove(number);
    report(ChannelBindFailed, QStringLiteral("TURN server %1 did not answer %2 ChannelBind requests for %3")
                                  .arg(_server.toString())
                                  .arg(MaxUnansweredPeerRequests)
                                  .arg(peer.toString()));
}

void TurnClient::onDataIndication(const TurnMessage &indication) {
    if (_state != Allocated || indication.peerAddresses.isEmpty() || !indication.data) {
        return;
    }
    // From any port of a permitted IP, channel or not: the relay checked the permission, and the
    // address it reports is the one to answer (a peer's NAT may have moved its port).
    Q_EMIT relayedDatagram(*indication.data, indication.peerAddresses.first());
}

void TurnClient::onChannelData(const QByteArray &datagram) {
    if (_state != Allocated) {
        return;
    }
    const auto frame = ChannelData::decode(datagram);
    if (!frame.ok() || !_channelPeers.contains(frame.value.channel)) {
        qCDebug(networking_turn) << "dropping ChannelData on an unknown channel or malformed";
        return;
    }
    Q_EMIT relayedDatagram(frame.value.payload, _channelPeers.value(frame.value.channel));
}

void TurnClient::sendRefresh(quint32 lifetime) {
    if (_state != Allocated) {
        return;
    }
    TurnMessage request = TurnMessage::create(TurnMessage::Refresh);
    if (lifetime > 0) {
        request.lifetime = lifetime;
    }
    startRequest(request);
}

void TurnClient::sendPermission(const QHostAddress &peer) {
    Permission *permission = _permissions.value(peer);
    if (!permission || permission->inFlight || _state != Allocated) {
        return;
    }
    permission->inFlight = true;
    TurnMessage request = TurnMessage::create(TurnMessage::CreatePermission);
    request.peerAddresses = { SockAddr(peer, 0) }; // the port is ignored: permissions are per IP
    startRequest(request);
}

void TurnClient::sendChannelBind(const SockAddr &peer) {
    Channel *channel = _channels.value(peer);
    if (!channel || channel->inFlight || _state != Allocated) {
        return;
    }
    channel->inFlight = true;
    TurnMessage request = TurnMessage::create(TurnMessage::ChannelBind);
    request.channelNumber = channel->number;
    request.peerAddresses = { peer };
    startRequest(request);
}

void TurnClient::scheduleRefresh(quint32 lifetimeSec) {
    _refreshTimer->start(_timing.refreshAfterMs(int(std::min<quint32>(lifetimeSec, 24 * 3600))));
}

void TurnClient::setUpPending() {
    for (auto it = _permissions.cbegin(); it != _permissions.cend(); ++it) {
        sendPermission(it.key());
    }
    for (auto it = _channels.cbegin(); it != _channels.cend(); ++it) {
        sendChannelBind(it.key());
    }
}

void TurnClient::fail(Error error, const QString &why) {
    reset();
    _state = Failed;
    report(error, why);
}

void TurnClient::report(Error error, const QString &why) {
    _error = error;
    _errorString = why;
    qCWarning(networking_turn).noquote() << why;
    Q_EMIT errorOccurred(error);
}

void TurnClient::dropTransactions() {
    for (Transaction *transaction : qAsConst(_transactions)) {
        dropTimer(transaction->timer);
        delete transaction;
    }
    _transactions.clear();
}

void TurnClient::dropPeers() {
    for (Permission *permission : qAsConst(_permissions)) {
        dropTimer(permission->refresh);
        delete permission;
    }
    _permissions.clear();
    for (Channel *channel : qAsConst(_channels)) {
        dropTimer(channel->refresh);
        delete channel;
    }
    _channels.clear();
    _channelPeers.clear();
    _nextChannel = ChannelData::FirstChannel;
}

void TurnClient::reset() {
    dropTransactions();
    dropPeers();
    if (_refreshTimer) {
        _refreshTimer->stop();
    }
    if (_allocateRetryTimer) {
        _allocateRetryTimer->stop();
    }
    _relayed = SockAddr();
    _mapped = SockAddr();
    _realm.clear();
    _nonce.clear();
    _key.clear();
}

QString TurnClient::describe(const TurnMessage &response) const {
    // coturn counts a C string's NUL into its reason phrases; a NUL would end the log line there.
    QByteArray reason = response.errorReason;
    while (reason.endsWith('\0')) {
        reason.chop(1);
    }
    return QStringLiteral("%1 %2").arg(response.errorCode).arg(QString::fromUtf8(reason));
}

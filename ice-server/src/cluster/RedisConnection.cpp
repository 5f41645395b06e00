#include "RedisConnection.h"

#include "ClusterLogging.h"
#include "RedisEventAdapter.h"

#include <QtCore/QRandomGenerator>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QHostInfo>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <vector>

// What hiredis carries for one command until its callback: who sent it, whom to tell.
struct RedisConnection::Pending {
    RedisConnection *owner;
    ReplyCallback callback;
};

namespace {

QByteArray sanitizedClientName(const QString &name) {
    QByteArray out = name.toUtf8();
    for (char &c : out) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
                        || c == '_' || c == ':' || c == '-';
        if (!ok) {
            c = '_';
        }
    }
    return out.isEmpty() ? QByteArray("icebreaker") : out.left(64);
}

} // namespace

RedisConnection::RedisConnection(const Options &options, QObject *parent) : QObject(parent), _options(options) {
    _clock.start();
    _deadlineTimer.setInterval(qBound(20, _options.commandTimeoutMs / 4, 500));
    connect(&_deadlineTimer, &QTimer::timeout, this, &RedisConnection::checkDeadline);
    _reconnectTimer.setSingleShot(true);
    connect(&_reconnectTimer, &QTimer::timeout, this, &RedisConnection::startConnect);
}

RedisConnection::~RedisConnection() {
    // Callbacks may point into an owner that is being destroyed: they are dropped, not called.
    _destroying = true;
    _wanted = false;
    if (_lookupId >= 0) {
        QHostInfo::abortHostLookup(_lookupId);
    }
    dropContext();
}

void RedisConnection::open() {
    if (_wanted) {
        return;
    }
    if (!_options.url.isValid()) {
        _error = Error::BadUrl;
        _errorString = QStringLiteral("invalid Redis URL: ") + _options.url.errorString();
        qCWarning(ice_cluster).noquote() << _errorString;
        return;
    }
    _wanted = true;
    _failuresInARow = 0;
    startConnect();
}

void RedisConnection::close() {
    _wanted = false;
    _reconnectTimer.stop();
    if (_lookupId >= 0) {
        QHostInfo::abortHostLookup(_lookupId);
        _lookupId = -1;
    }
    _confirmed.clear();
    _error = Error::Closed;
    _errorString = QStringLiteral("closed");
    const State previous = _state;
    _state = State::Down;
    dropContext();
    if (previous != State::Down) {
        Q_EMIT stateChanged(_state);
    }
}

void RedisConnection::startConnect() {
    if (!_wanted || _ctx || _lookupId >= 0) {
        return;
    }
    ++_counters.connectAttempts;
    setState(State::Connecting);
    const QString host = _options.url.host();
    if (!QHostAddress(host).isNull()) {
        connectTo(host);
        return;
    }
    // hiredis would resolve with a blocking getaddrinfo(); QHostInfo resolves on a worker thread.
    _lookupId = QHostInfo::lookupHost(host, this, [this](const QHostInfo &info) {
        _lookupId = -1;
        if (!_wanted || _state != State::Connecting) {
            return;
        }
        if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
            fail(Error::HostNotFound, QStringLiteral("cannot resolve %1: %2").arg(info.hostName(), info.errorString()));
            return;
        }
        connectTo(info.addresses().constFirst().toString());
    });
}

void RedisConnection::connectTo(const QString &address) {
    redisAsyncContext *ctx = redisAsyncConnect(address.toUtf8().constData(), _options.url.port());
    if (!ctx) {
        fail(Error::ConnectFailed, QStringLiteral("cannot allocate a Redis context"));
        return;
    }
    if (ctx->err) {
        const QString reason = QString::fromUtf8(ctx->errstr);
        redisAsyncFree(ctx);
        fail(Error::ConnectFailed, QStringLiteral("connect to %1 failed: %2").arg(_options.url.redacted(), reason));
        return;
    }
    _ctx = ctx;
    _ctx->data = this;
    // The adapter first: setting the connect callback already asks the event loop for writability.
    _adapter = new RedisEventAdapter(_ctx, this);
    redisAsyncSetConnectCallback(_ctx, &RedisConnection::onConnect);
    redisAsyncSetDisconnectCallback(_ctx, &RedisConnection::onDisconnect);
    // The kernel notices a peer that vanished without a FIN too, independently of our deadline.
    redisEnableKeepAlive(&_ctx->c);
    _lastActivityMs = nowMs();
    _deadlineTimer.start();
    sendHandshake();
}

// AUTH, SELECT and CLIENT SETNAME are pipelined behind the TCP connect; hiredis writes them once
// it completes. The last reply proves the server answers: only then is the state Connected.
void RedisConnection::sendHandshake() {
    const RedisUrl &url = _options.url;
    if (url.hasPassword()) {
        QList<QByteArray> auth { "AUTH" };
        if (!url.user().isEmpty()) {
            auth << url.user().toUtf8();
        }
        auth << url.password().toUtf8();
        const QString who = url.user().isEmpty() ? QStringLiteral("the default user")
                                                 : QStringLiteral("user '%1'").arg(url.user());
        send(auth, [this, who](const RedisReply &reply) {
            if (reply.isError()) {
                fail(Error::AuthFailed,
                     QStringLiteral("Redis refused AUTH for %1: %2").arg(who, QString::fromUtf8(reply.describe())));
            }
        });
    }
    if (url.database() != 0) {
        send({ "SELECT", QByteArray::number(url.database()) }, [this](const RedisReply &reply) {
            if (reply.isError() && _state == State::Connecting) {
                fail(Error::SelectFailed, QStringLiteral("Redis refused SELECT %1: %2")
                                              .arg(_options.url.database())
                                              .arg(QString::fromUtf8(reply.describe())));
            }
        });
    }
    // An ACL user may lack CLIENT: an error here is fine, any reply proves the server answers.
    send({ "CLIENT", "SETNAME", sanitizedClientName(_options.clientName) }, [this](const RedisReply &reply) {
        if (reply.isNoReply() || _state != State::Connecting) {
            return;
        }
        if (reply.isError() && reply.bytes().startsWith("NOAUTH")) {
            fail(Error::AuthFailed, QStringLiteral("Redis %1 requires a password: redis://[USER]:PASSWORD@HOST")
                                        .arg(_options.url.redacted()));
            return;
        }
        _failuresInARow = 0;
        _error = Error::NoError;
        _errorString.clear();
        ++_counters.connects;
        qCInfo(ice_cluster).noquote() << "Redis" << _options.url.redacted() << "connected" << _options.clientName;
        setState(State::Connected);
        for (auto it = _subscriptions.constBegin(); it != _subscriptions.constEnd(); ++it) {
            sendSubscribe(it.key());
        }
    });
}

bool RedisConnection::command(const QList<QByteArray> &args, ReplyCallback callback) {
    if (_state != State::Connected || !_subscriptions.isEmpty() || args.isEmpty()) {
        return false;
    }
    return send(args, std::move(callback));
}

bool RedisConnection::send(const QList<QByteArray> &args, ReplyCallback callback) {
    if (!_ctx) {
        return false;
    }
    std::vector<const char *> argv;
    std::vector<size_t> lengths;
    argv.reserve(size_t(args.size()));
    lengths.reserve(size_t(args.size()));
    for (const QByteArray &arg : args) {
        argv.push_back(arg.constData());
        lengths.push_back(size_t(arg.size()));
    }
    auto *pending = new Pending { this, std::move(callback) };
    if (redisAsyncCommandArgv(_ctx, &RedisConnection::onReply, pending, int(argv.size()), argv.data(), lengths.data())
        != REDIS_OK) {
        delete pending; // the context is disconnecting; hiredis took nothing
        return false;
    }
    _pendingSinceMs.push_back(nowMs());
    _lastActivityMs = nowMs();
    ++_counters.commandsSent;
    return true;
}

void RedisConnection::subscribe(const QByteArray &channel, MessageCallback callback) {
    _subscriptions.insert(channel, std::move(callback));
    if (_state == State::Connected) {
        sendSubscribe(channel);
    }
}

// Also the subscriber's liveness probe: a repeated SUBSCRIBE is harmless and is confirmed again.
void RedisConnection::sendSubscribe(const QByteArray &channel) {
    if (!_ctx) {
        return;
    }
    const char *argv[] = { "SUBSCRIBE", channel.constData() };
    const size_t lengths[] = { 9, size_t(channel.size()) };
    if (redisAsyncCommandArgv(_ctx, &RedisConnection::onSubscription, nullptr, 2, argv, lengths) == REDIS_OK) {
        _pendingSinceMs.push_back(nowMs());
        _lastActivityMs = nowMs();
        ++_counters.commandsSent;
    }
}

void RedisConnection::onReply(redisAsyncContext *ctx, void *reply, void *privdata) {
    std::unique_ptr<Pending> pending(static_cast<Pending *>(privdata));
    const RedisReply value = RedisReply::fromHiredis(static_cast<redisReply *>(reply));
    auto *self = static_cast<RedisConnection *>(ctx->data); // null once we tore the context down
    if (self && reply) {
        self->replyArrived(value);
    }
    if (pending->callback && !pending->owner->_destroying) {
        pending->callback(value);
    }
}

void RedisConnection::onSubscription(redisAsyncContext *ctx, void *reply, void *) {
    auto *self = static_cast<RedisConnection *>(ctx->data);
    if (self && reply) {
        self->handleSubscription(RedisReply::fromHiredis(static_cast<redisReply *>(reply)));
    }
}

void RedisConnection::replyArrived(const RedisReply &reply) {
    // Redis answers in order, so the oldest outstanding command is the one answered.
    if (!_pendingSinceMs.empty()) {
        _pendingSinceMs.pop_front();
    }
    _lastActivityMs = nowMs();
    if (reply.isError()) {
        ++_counters.errorReplies;
    }
}

void RedisConnection::handleSubscription(const RedisReply &reply) {
    const QList<RedisReply> &parts = reply.elements();
    if (reply.type() != RedisReply::Type::Array || parts.size() < 3) {
        return;
    }
    const QByteArray kind = parts.at(0).bytes();
    const QByteArray channel = parts.at(1).bytes();
    _lastActivityMs = nowMs();
    if (kind == "subscribe") {
        if (!_pendingSinceMs.empty()) {
            _pendingSinceMs.pop_front();
        }
        if (!_confirmed.contains(channel)) {
            _confirmed.insert(channel, true);
            Q_EMIT subscribed(channel);
        }
    } else if (kind == "message") {
        const auto it = _subscriptions.constFind(channel);
        if (it != _subscriptions.constEnd() && it.value()) {
            it.value()(parts.at(2).bytes());
        }
    }
}

void RedisConnection::onConnect(const redisAsyncContext *ctx, int status) {
    auto *self = static_cast<RedisConnection *>(ctx->data);
    if (!self || status == REDIS_OK) {
        return;
    }
    // hiredis frees the context when this returns; its pending callbacks must not reach us.
    const_cast<redisAsyncContext *>(ctx)->data = nullptr;
    self->_ctx = nullptr;
    self->fail(
        Error::ConnectFailed,
        QStringLiteral("connect to %1 failed: %2").arg(self->_options.url.redacted(), QString::fromUtf8(ctx->errstr)));
}

void RedisConnection::onDisconnect(const redisAsyncContext *ctx, int status) {
    auto *self = static_cast<RedisConnection *>(ctx->data);
    if (!self) {
        return; // a disconnect we started
    }
    const_cast<redisAsyncContext *>(ctx)->data = nullptr;
    self->_ctx = nullptr; // hiredis frees it when this returns
    const QString reason = status == REDIS_OK ? QStringLiteral("the server closed the connection")
                                              : QString::fromUtf8(ctx->errstr);
    self->fail(Error::ConnectionLost,
               QStringLiteral("connection to %1 lost: %2").arg(self->_options.url.redacted(), reason));
}

void RedisConnection::checkDeadline() {
    const qint64 now = nowMs();
    if (!_pendingSinceMs.empty() && now - _pendingSinceMs.front() > _options.commandTimeoutMs) {
        const QString what = _state == State::Connecting ? QStringLiteral("while connecting")
                                                         : QStringLiteral("to a command");
        fail(Error::Timeout, QStringLiteral("no reply from %1 %2 within %3 ms")
                                 .arg(_options.url.redacted(), what)
                                 .arg(_options.commandTimeoutMs));
        return;
    }
    if (_state == State::Connected && _pendingSinceMs.empty() && _options.idleProbeMs > 0
        && now - _lastActivityMs >= _options.idleProbeMs) {
        if (!_subscriptions.isEmpty()) {
            sendSubscribe(_subscriptions.constBegin().key());
        } else {
            send({ "PING" }, {});
        }
    }
}

void RedisConnection::fail(Error error, const QString &reason) {
    const State previous = _state;
    _error = error;
    _errorString = reason;
    ++_counters.failures;
    if (error == Error::Timeout) {
        ++_counters.timeouts;
    }
    ++_failuresInARow;
    _confirmed.clear();
    _state = State::Down; // before the teardown: callbacks it runs see a connection that is down
    if (previous == State::Connected || _failuresInARow == 1) {
        qCWarning(ice_cluster).noquote() << "Redis down:" << reason;
    } else {
        qCDebug(ice_cluster).noquote() << "Redis still down:" << reason;
    }
    dropContext();
    if (previous != State::Down) {
        Q_EMIT stateChanged(_state);
    }
    scheduleReconnect();
}

void RedisConnection::dropContext() {
    _deadlineTimer.stop();
    _pendingSinceMs.clear();
    if (_ctx) {
        redisAsyncContext *ctx = _ctx;
        _ctx = nullptr;
        ctx->data = nullptr;
        // Runs every pending callback with no reply (now, or after the current hiredis callback).
        redisAsyncFree(ctx);
    }
    if (_adapter) {
        _adapter->deleteLater(); // we may be inside one of its notifier slots
        _adapter = nullptr;
    }
}

void RedisConnection::setState(State state) {
    if (_state != state) {
        _state = state;
        Q_EMIT stateChanged(state);
    }
}

// Doubling from reconnectMinMs up to reconnectMaxMs, each delay drawn from its upper half so
// nodes that lost Redis together do not come back in lock step.
void RedisConnection::scheduleReconnect() {
    if (!_wanted || _destroying) {
        return;
    }
    const int shift = qMin(_failuresInARow - 1, 20);
    const qint64 base = qMin<qint64>(_options.reconnectMaxMs, qint64(_options.reconnectMinMs) << qMax(shift, 0));
    const qint64 delay = base / 2 + qint64(QRandomGenerator::global()->bounded(quint32(base / 2 + 1)));
    _reconnectTimer.start(int(delay));
}

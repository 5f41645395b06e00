#include "ClusterRegistry.h"

#include "ClusterLogging.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDateTime>

namespace {

// KEYS[1] the domain's hash. ARGV: 1 this node, 2 the d field, 3 the key's TTL in ms, 4 the prefix
// of alive keys, 5 'w' (write d) or 't' (refresh only, when this node already owns the record).
// Returns {accepted 0/1, epoch, owner, previous owner taken over from or ''}.
const QByteArray kPublishScript = R"lua(
local cur = redis.call('HMGET', KEYS[1], 'o', 'e')
local owner = cur[1]
local epoch = tonumber(cur[2] or '0') or 0
local previous = ''
if owner and owner ~= ARGV[1] then
  if redis.call('EXISTS', ARGV[4] .. owner) == 1 then
    return {0, epoch, owner, ''}
  end
  previous = owner
end
if owner ~= ARGV[1] then
  epoch = epoch + 1
  redis.call('HSET', KEYS[1], 'o', ARGV[1], 'e', epoch, 'd', ARGV[2])
elseif ARGV[5] == 'w' then
  redis.call('HSET', KEYS[1], 'd', ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, epoch, ARGV[1], previous}
)lua";

// KEYS[1] the domain's hash, ARGV[1] this node: deletes the record only if this node owns it.
const QByteArray kUnpublishScript = R"lua(
if redis.call('HGET', KEYS[1], 'o') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

// KEYS[1] the domain's hash, ARGV[1] the prefix of alive keys: {owner, epoch, d, owner alive 0/1}
// or nil, in one round trip.
const QByteArray kLookupScript = R"lua(
local cur = redis.call('HMGET', KEYS[1], 'o', 'e', 'd')
if not cur[1] then
  return false
end
return {cur[1], cur[2] or '0', cur[3] or '', redis.call('EXISTS', ARGV[1] .. cur[1])}
)lua";

const QByteArray &scriptBody(int script) {
    static const QByteArray bodies[] = { kPublishScript, kUnpublishScript, kLookupScript };
    return bodies[script];
}

const QByteArray &scriptSha(int script) {
    static const QByteArray shas[] = {
        QCryptographicHash::hash(kPublishScript, QCryptographicHash::Sha1).toHex(),
        QCryptographicHash::hash(kUnpublishScript, QCryptographicHash::Sha1).toHex(),
        QCryptographicHash::hash(kLookupScript, QCryptographicHash::Sha1).toHex(),
    };
    return shas[script];
}

RedisConnection::Options connectionOptions(const ClusterRegistry::Options &options, const char *role) {
    RedisConnection::Options out;
    out.url = options.url;
    out.commandTimeoutMs = options.commandTimeoutMs;
    out.clientName = QStringLiteral("icebreaker:%1:%2").arg(options.nodeId, QLatin1String(role));
    return out;
}

} // namespace

ClusterRegistry::ClusterRegistry(const Options &options, QObject *parent)
    : QObject(parent), _options(options), _commands(connectionOptions(options, "cmd")),
      _subscriber(connectionOptions(options, "sub")) {
    connect(&_commands, &RedisConnection::stateChanged, this, &ClusterRegistry::connectionStateChanged);
    connect(&_subscriber, &RedisConnection::stateChanged, this, &ClusterRegistry::connectionStateChanged);
    _subscriber.subscribe(nodeChannel(_options.nodeId), [this](const QByteArray &message) { messageArrived(message); });
    _aliveTimer.setInterval(qMax(100, _options.peerTimeoutMs / 4));
    connect(&_aliveTimer, &QTimer::timeout, this, &ClusterRegistry::refreshAlive);
}

ClusterRegistry::~ClusterRegistry() = default;

void ClusterRegistry::start() {
    _startedAtMs = QDateTime::currentMSecsSinceEpoch();
    _commands.open();
    _subscriber.open();
}

void ClusterRegistry::stop() {
    _aliveTimer.stop();
    _commands.close();
    _subscriber.close();
}

QByteArray ClusterRegistry::domainKey(const QUuid &domainId) const {
    return _options.keyPrefix + "domain:" + domainId.toByteArray(QUuid::WithoutBraces);
}

QByteArray ClusterRegistry::nodeChannel(const QString &nodeId) const {
    return _options.keyPrefix + "node:" + nodeId.toUtf8();
}

QByteArray ClusterRegistry::aliveKey(const QString &nodeId) const {
    return _options.keyPrefix + "alive:" + nodeId.toUtf8();
}

bool ClusterRegistry::isHealthy() const {
    return _commands.isConnected() && _subscriber.isConnected();
}

RedisConnection::State ClusterRegistry::state() const {
    const auto a = _commands.state();
    const auto b = _subscriber.state();
    if (a == RedisConnection::State::Down || b == RedisConnection::State::Down) {
        return RedisConnection::State::Down;
    }
    if (a == RedisConnection::State::Connecting || b == RedisConnection::State::Connecting) {
        return RedisConnection::State::Connecting;
    }
    return RedisConnection::State::Connected;
}

QString ClusterRegistry::errorString() const {
    if (!_commands.isConnected()) {
        return _commands.errorString().isEmpty() ? QStringLiteral("connecting to Redis") : _commands.errorString();
    }
    if (!_subscriber.isConnected()) {
        return _subscriber.errorString().isEmpty() ? QStringLiteral("connecting to Redis (pub/sub)")
                                                   : QStringLiteral("pub/sub: ") + _subscriber.errorString();
    }
    return {};
}

ClusterRegistry::Counters ClusterRegistry::counters() const {
    Counters out = _counters;
    for (const RedisConnection *connection : { &_commands, &_subscriber }) {
        const RedisConnection::Counters &c = connection->counters();
        out.redisCommands += c.commandsSent;
        out.redisErrors += c.errorReplies + c.failures;
        out.redisTimeouts += c.timeouts;
        out.redisReconnects += c.connectAttempts > 0 ? c.connectAttempts - 1 : 0;
    }
    return out;
}

void ClusterRegistry::connectionStateChanged() {
    if (sender() == &_commands) {
        if (_commands.isConnected()) {
            commandConnectionUp();
        } else {
            _aliveTimer.stop();
            _republishQueue.clear();
        }
    }
    const bool healthy = isHealthy();
    if (healthy != _healthy) {
        _healthy = healthy;
        Q_EMIT healthChanged(healthy);
    }
}

// Redis is (back) up: load the scripts, say we are alive, then write everything we hold, whatever
// Redis had: it may have restarted empty, or another node may have taken a domain meanwhile.
void ClusterRegistry::commandConnectionUp() {
    for (int script = 0; script < ScriptCount; ++script) {
        _commands.command({ "SCRIPT", "LOAD", scriptBody(script) });
    }
    refreshAlive();
    _aliveTimer.start();
    _republishQueue = _owned.keys();
    republishNext();
}

void ClusterRegistry::republishNext() {
    int budget = _options.republishBatch;
    while (!_republishQueue.isEmpty() && budget-- > 0 && _commands.isConnected()) {
        const QUuid id = _republishQueue.takeLast();
        auto it = _owned.find(id);
        if (it != _owned.end() && !it->inFlight) {
            ++_counters.republished;
            sendWrite(id, *it, _lastNowMs, true);
        }
    }
    if (!_republishQueue.isEmpty() && _commands.isConnected()) {
        QTimer::singleShot(0, this, &ClusterRegistry::republishNext);
    }
}

void ClusterRegistry::refreshAlive() {
    _commands.command({ "SET", aliveKey(_options.nodeId), QByteArray::number(_startedAtMs), "PX",
                        QByteArray::number(_options.peerTimeoutMs) });
}

bool ClusterRegistry::evalScript(Script script, const QList<QByteArray> &keysAndArgs,
                                 RedisConnection::ReplyCallback callback) {
    QList<QByteArray> args { "EVALSHA", scriptSha(script), "1" };
    args += keysAndArgs;
    // Redis forgets scripts on restart or SCRIPT FLUSH: resend the body once on NOSCRIPT.
    return _commands.command(args, [this, script, keysAndArgs, callback](const RedisReply &reply) {
        if (reply.isError() && reply.bytes().startsWith("NOSCRIPT")) {
            QList<QByteArray> evalArgs { "EVAL", scriptBody(script), "1" };
            evalArgs += keysAndArgs;
            if (_commands.command(evalArgs, callback)) {
                return;
            }
            if (callback) {
                callback(RedisReply::noReply());
            }
            return;
        }
        if (callback) {
            callback(reply);
        }
    });
}

void ClusterRegistry::publish(const QUuid &domainId, const IpEndpoint &publicSocket, const IpEndpoint &localSocket,
                              const QByteArray &keyFingerprint, qint64 nowMs) {
    ++_counters.publishCalls;
    _lastNowMs = nowMs;
    Owned &owned = _owned[domainId];
    if (owned.contentVersion == 0 || owned.publicSocket != publicSocket || owned.localSocket != localSocket
        || owned.keyFingerprint != keyFingerprint) {
        owned.publicSocket = publicSocket;
        owned.localSocket = localSocket;
        owned.keyFingerprint = keyFingerprint;
        ++owned.contentVersion;
    }
    if (!_commands.isConnected() || owned.inFlight) {
        return; // written when Redis is back, or when the reply in flight arrives
    }
    // Refused (another live owner) or failed: retry, but at a bounded rate.
    if (!owned.accepted && owned.lastAttemptMs >= 0 && nowMs - owned.lastAttemptMs < _options.retryRejectedMs) {
        return;
    }
    const bool dirty = owned.contentVersion != owned.writtenVersion;
    if (!dirty && owned.accepted && nowMs - owned.lastWriteMs < _options.refreshIntervalMs) {
        return; // the steady state: no Redis command
    }
    sendWrite(domainId, owned, nowMs, false);
}

void ClusterRegistry::sendWrite(const QUuid &id, Owned &owned, qint64 nowMs, bool forceData) {
    ClusterRecord record;
    record.publicSocket = owned.publicSocket;
    record.localSocket = owned.localSocket;
    record.keyFingerprint = owned.keyFingerprint;
    record.publishedAtMs = QDateTime::currentMSecsSinceEpoch();
    const bool writeData = forceData || !owned.accepted || owned.contentVersion != owned.writtenVersion;
    const quint64 version = owned.contentVersion;
    // The record outlives a refresh interval plus a peer timeout; liveness is the owner's alive key.
    const qint64 leaseMs = qint64(_options.refreshIntervalMs) + _options.peerTimeoutMs;
    const bool sent = evalScript(
        PublishScript,
        { domainKey(id), _options.nodeId.toUtf8(), record.encodeData(), QByteArray::number(leaseMs),
          _options.keyPrefix + "alive:", writeData ? "w" : "t" },
        [this, id, version, nowMs](const RedisReply &reply) {
            --_writesInFlight;
            auto it = _owned.find(id);
            if (it == _owned.end()) {
                return; // unpublished meanwhile
            }
            Owned &owned = *it;
            owned.inFlight = false;
            const QList<RedisReply> &parts = reply.elements();
            if (reply.type() != RedisReply::Type::Array || parts.size() < 4) {
                ++_counters.writeErrors;
                owned.accepted = false;
                return;
            }
            if (parts.at(0).integer() == 1) {
                owned.accepted = true;
                owned.rejected = false;
                owned.writtenVersion = version;
                owned.lastWriteMs = nowMs;
                if (!parts.at(3).bytes().isEmpty()) {
                    ++_counters.takeovers;
                    qCInfo(ice_cluster).noquote()
                        << "took over domain" << id.toString(QUuid::WithoutBraces) << "from dead node"
                        << parts.at(3).bytes() << "epoch" << parts.at(1).integer();
                }
                if (owned.contentVersion != owned.writtenVersion && _commands.isConnected()) {
                    sendWrite(id, owned, _lastNowMs, false); // changed while the write was in flight
                }
                return;
            }
            ++_counters.rejected;
            owned.accepted = false;
            if (!owned.rejected) {
                owned.rejected = true;
                const QString owner = QString::fromUtf8(parts.at(2).bytes());
                qCInfo(ice_cluster).noquote() << "domain" << id.toString(QUuid::WithoutBraces) << "is held by live node"
                                              << owner << "- not taken over";
                Q_EMIT publishRejected(id, owner);
            }
        });
    if (sent) {
        ++_writesInFlight;
        owned.inFlight = true;
        owned.lastAttemptMs = nowMs;
        ++_counters.writes;
    }
}

void ClusterRegistry::unpublish(const QUuid &domainId) {
    if (_owned.remove(domainId) == 0) {
        return;
    }
    ++_counters.unpublishes;
    // Down: the record stays until its lease ends; a node that is back re-publishes only what it holds.
    evalScript(UnpublishScript, { domainKey(domainId), _options.nodeId.toUtf8() }, {});
}

bool ClusterRegistry::owns(const QUuid &domainId) const {
    const auto it = _owned.constFind(domainId);
    return it != _owned.constEnd() && it->accepted;
}

bool ClusterRegistry::heldElsewhere(const QUuid &domainId) const {
    const auto it = _owned.constFind(domainId);
    return it != _owned.constEnd() && it->rejected;
}

void ClusterRegistry::lookup(const QUuid &domainId, qint64 nowMs, LookupCallback callback) {
    ++_counters.lookups;
    const auto negative = _negative.find(domainId);
    if (negative != _negative.end()) {
        if (nowMs < negative.value()) {
            ++_counters.negativeHits;
            LookupResult result;
            result.status = LookupResult::Status::NotFound;
            callback(result);
            return;
        }
        _negative.erase(negative);
    }
    if (!_commands.isConnected()) {
        ++_counters.lookupErrors;
        callback(LookupResult {});
        return;
    }
    const auto pending = _pendingLookups.find(domainId);
    if (pending != _pendingLookups.end()) {
        ++_counters.coalesced;
        pending->push_back(std::move(callback));
        return;
    }
    if (_pendingLookups.size() >= _options.maxPendingLookups) {
        ++_counters.lookupsShed;
        callback(LookupResult {});
        return;
    }
    _pendingLookups[domainId].push_back(std::move(callback));
    ++_counters.lookupsSent;
    const bool sent = evalScript(LookupScript, { domainKey(domainId), _options.keyPrefix + "alive:" },
                                 [this, domainId, nowMs](const RedisReply &reply) {
                                     LookupResult result;
                                     result.record.domainId = domainId;
                                     const QList<RedisReply> &parts = reply.elements();
                                     if (reply.isNil()) {
                                         result.status = LookupResult::Status::NotFound;
                                     } else if (reply.type() == RedisReply::Type::Array && parts.size() == 4) {
                                         QString why;
                                         result.record.ownerNode = QString::fromUtf8(parts.at(0).bytes());
                                         result.record.epoch = parts.at(1).bytes().toUInt();
                                         if (!result.record.decodeData(parts.at(2).bytes(), &why)) {
                                             qCWarning(ice_cluster).noquote()
                                                 << "unreadable record for" << domainId.toString(QUuid::WithoutBraces)
                                                 << ":" << why;
                                             result.status = LookupResult::Status::Unavailable;
                                         } else {
                                             result.status = parts.at(3).integer() == 1
                                                                 ? LookupResult::Status::Found
                                                                 : LookupResult::Status::OwnerDown;
                                         }
                                     }
                                     finishLookup(domainId, result, nowMs);
                                 });
    if (!sent) {
        finishLookup(domainId, LookupResult {}, nowMs);
    }
}

void ClusterRegistry::finishLookup(const QUuid &id, const LookupResult &result, qint64 nowMs) {
    const std::vector<LookupCallback> callbacks = _pendingLookups.take(id);
    switch (result.status) {
    case LookupResult::Status::Found: ++_counters.lookupsFound; break;
    case LookupResult::Status::NotFound:
    case LookupResult::Status::OwnerDown:
        ++_counters.lookupsNotFound;
        rememberMiss(id, nowMs);
        break;
    case LookupResult::Status::Unavailable: ++_counters.lookupErrors; break;
    }
    for (const LookupCallback &callback : callbacks) {
        callback(result);
    }
}

// Bounded: entries leave in insertion order when expired or when the cache is full, so a flood
// of random IDs costs one lookup each and at most maxNegativeEntries of memory.
void ClusterRegistry::rememberMiss(const QUuid &id, qint64 nowMs) {
    if (_options.negativeTtlMs <= 0 || _options.maxNegativeEntries <= 0) {
        return;
    }
    while (
        !_negativeOrder.empty()
        && (_negativeOrder.front().expiresMs <= nowMs || int(_negativeOrder.size()) >= _options.maxNegativeEntries)) {
        const NegativeEntry &oldest = _negativeOrder.front();
        const auto it = _negative.constFind(oldest.id);
        if (it != _negative.constEnd() && it.value() == oldest.expiresMs) {
            _negative.erase(it);
        }
        _negativeOrder.pop_front();
    }
    const qint64 expires = nowMs + _options.negativeTtlMs;
    _negative.insert(id, expires);
    _negativeOrder.push_back({ id, expires });
}

bool ClusterRegistry::forward(const QString &node, const QByteArray &payload) {
    if (node.isEmpty() || payload.size() > ClusterMessage::kMaxPayload) {
        return false;
    }
    ClusterMessage message;
    message.fromNode = _options.nodeId;
    message.payload = payload;
    const bool sent = _commands.command({ "PUBLISH", nodeChannel(node), message.encode() },
                                        [this](const RedisReply &reply) {
                                            if (reply.type() != RedisReply::Type::Integer || reply.integer() == 0) {
                                                ++_counters.forwardsUndelivered;
                                            }
                                        });
    if (sent) {
        ++_counters.forwardsSent;
    }
    return sent;
}

void ClusterRegistry::messageArrived(const QByteArray &bytes) {
    ClusterMessage message;
    QString why;
    if (!message.decode(bytes, &why)) {
        ++_counters.forwardsMalformed;
        qCDebug(ice_cluster).noquote() << "dropped a malformed cluster message:" << why;
        return;
    }
    ++_counters.forwardsReceived;
    Q_EMIT forwardReceived(message.fromNode, message.payload);
}

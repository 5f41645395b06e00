// The ice-server's view of the shared registration store: publish what this node verified, look
// up what other nodes hold, forward a query to a domain's owning node. Every call returns at once;
// answers come through callbacks and signals on this thread. Redis trouble never blocks or breaks
// the caller: publishes are kept locally and re-published when Redis returns, lookups answer
// Unavailable, and the node keeps serving what it holds itself.
//
// Cost model: a domain heartbeats every second, publish() is called for each verified heartbeat,
// and only a change (or a refresh every refreshIntervalMs) reaches Redis. Liveness of a record is
// not its key's TTL but its owning node's alive key (refreshed per node, not per domain): a node
// that dies loses all its domains after peerTimeoutMs, a node that drops a silent domain deletes
// its record (unpublish), and the record's own TTL (refresh interval + peer timeout) only cleans up.
//
// Takeover rule (atomic, in a Lua script): a node may write a domain's record when it has no
// record, when the node itself owns it, or when the owning node's alive key has expired (that node
// is dead or cut off from Redis). A live owner is never overwritten, so a heartbeat replayed at
// another node cannot move a domain; a domain that really moved is released by its old node's
// peer timeout (unpublish) and claimed by the new node's next retry. Each change of owner
// increments the record's epoch.
#pragma once

#include "ClusterRecord.h"
#include "RedisConnection.h"

#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QTimer>
#include <QtCore/QUuid>

#include <deque>
#include <functional>

class ClusterRegistry : public QObject {
    Q_OBJECT
public:
    struct Options {
        RedisUrl url;
        QString nodeId;                       // unique per node; names its channel and alive key
        QByteArray keyPrefix = "icebreaker:"; // several clusters may share one Redis
        int peerTimeoutMs = 5000;             // the ice-server's; a node silent this long is dead
        int refreshIntervalMs = 20000;        // an unchanged record is re-written at most this often
        int retryRejectedMs = 2500;           // a publish refused (live owner elsewhere) retried this often
        int negativeTtlMs = 2000;             // an unknown domain is not looked up again for this long
        int maxNegativeEntries = 100000;
        int maxPendingLookups = 4096; // beyond this, lookups answer Unavailable at once
        int commandTimeoutMs = 2000;
        int republishBatch = 2000; // records re-published per event-loop turn after a reconnect
    };

    struct LookupResult {
        enum class Status {
            Found,       // record of a domain whose owning node is alive
            NotFound,    // no record (cached negatively)
            OwnerDown,   // a record whose owning node is dead: as good as none (cached negatively)
            Unavailable, // Redis is down, slow or the lookup was shed: try locally, answer nothing
        };
        Status status = Status::Unavailable;
        ClusterRecord record;
    };
    using LookupCallback = std::function<void(const LookupResult &)>;

    // For /status and /metrics: plain numbers, copied.
    struct Counters {
        quint64 publishCalls = 0; // publish() calls (one per verified heartbeat)
        quint64 writes = 0;       // of them, those that sent a write or refresh to Redis
        quint64 writeErrors = 0;
        quint64 rejected = 0;  // writes refused: another live node owns the domain
        quint64 takeovers = 0; // writes that took a domain from a dead node
        quint64 unpublishes = 0;
        quint64 republished = 0; // records re-written after Redis came back
        quint64 lookups = 0;     // lookup() calls
        quint64 lookupsSent = 0; // of them, those that reached Redis
        quint64 lookupsFound = 0;
        quint64 lookupsNotFound = 0; // NotFound and OwnerDown answers from Redis
        quint64 negativeHits = 0;    // answered from the negative cache
        quint64 coalesced = 0;       // joined a lookup already outstanding for the same domain
        quint64 lookupsShed = 0;     // Unavailable: too many outstanding
        quint64 lookupErrors = 0;    // Unavailable: Redis down or failing
        quint64 forwardsSent = 0;
        quint64 forwardsUndelivered = 0; // PUBLISH reached no subscriber (owner gone)
        quint64 forwardsReceived = 0;
        quint64 forwardsMalformed = 0;
        // The two connections together.
        quint64 redisCommands = 0;
        quint64 redisErrors = 0; // error replies and connection failures
        quint64 redisTimeouts = 0;
        quint64 redisReconnects = 0; // connects after the first
    };

    explicit ClusterRegistry(const Options &options, QObject *parent = nullptr);
    ~ClusterRegistry() override;

    void start();
    void stop();

    // Healthy when both connections (commands, subscriber) are up.
    bool isHealthy() const;
    RedisConnection::State state() const; // the worse of the two
    QString errorString() const;          // why not healthy; empty when healthy
    Counters counters() const;
    const Options &options() const { return _options; }
    int ownedCount() const { return int(_owned.size()); }
    int writesInFlight() const { return _writesInFlight; }
    int negativeCacheSize() const { return int(_negative.size()); }
    QByteArray domainKey(const QUuid &domainId) const;
    QByteArray nodeChannel(const QString &nodeId) const;

    // A heartbeat for domainId was verified here and accepted by the local replay rule. Cheap when
    // nothing changed; nowMs is the caller's monotonic clock.
    void publish(const QUuid &domainId, const IpEndpoint &publicSocket, const IpEndpoint &localSocket,
                 const QByteArray &keyFingerprint, qint64 nowMs);
    // The domain expired here (or was removed): delete the record if this node still owns it.
    void unpublish(const QUuid &domainId);
    // Whether this node's last write for the domain was accepted (false: unknown or another owner).
    bool owns(const QUuid &domainId) const;
    // Whether the last write for the domain was refused because another live node holds it.
    bool heldElsewhere(const QUuid &domainId) const;

    // The callback runs once, on this thread; synchronously (before lookup() returns) when the
    // answer is known without Redis (negative cache, Redis down, shed).
    void lookup(const QUuid &domainId, qint64 nowMs, LookupCallback callback);

    // Sends payload to node's channel. False when Redis is down (nothing sent).
    bool forward(const QString &node, const QByteArray &payload);

Q_SIGNALS:
    void healthChanged(bool healthy);
    // A message arrived on this node's channel.
    void forwardReceived(const QString &fromNode, const QByteArray &payload);
    // A write for the domain was refused because owner (alive) holds it.
    void publishRejected(const QUuid &domainId, const QString &owner);

private:
    struct Owned {
        IpEndpoint publicSocket;
        IpEndpoint localSocket;
        QByteArray keyFingerprint;
        quint64 contentVersion = 0; // +1 on every change of the three above
        quint64 writtenVersion = 0; // the version Redis has from us (0: none confirmed)
        qint64 lastWriteMs = -1;    // caller clock of the last accepted write
        qint64 lastAttemptMs = -1;  // caller clock of the last write sent
        bool inFlight = false;
        bool accepted = false; // the last write was accepted
        bool rejected = false; // the last write was refused: another live node owns it
    };
    struct NegativeEntry {
        QUuid id;
        qint64 expiresMs;
    };

    enum Script { PublishScript, UnpublishScript, LookupScript, ScriptCount };
    void sendWrite(const QUuid &id, Owned &owned, qint64 nowMs, bool forceData);
    bool evalScript(Script script, const QList<QByteArray> &keysAndArgs, RedisConnection::ReplyCallback callback);
    void connectionStateChanged();
    void commandConnectionUp();
    void republishNext();
    void refreshAlive();
    void finishLookup(const QUuid &id, const LookupResult &result, qint64 nowMs);
    QByteArray aliveKey(const QString &nodeId) const;
    void rememberMiss(const QUuid &id, qint64 nowMs);
    void messageArrived(const QByteArray &bytes);

    Options _options;
    RedisConnection _commands;
    RedisConnection _subscriber;
    QTimer _aliveTimer;
    bool _healthy = false;
    qint64 _startedAtMs = 0;

    QHash<QUuid, Owned> _owned;
    QList<QUuid> _republishQueue;
    qint64 _lastNowMs = 0; // the caller's clock, as last seen
    int _writesInFlight = 0;

    QHash<QUuid, std::vector<LookupCallback>> _pendingLookups;
    QHash<QUuid, qint64> _negative;           // domain -> expiry (caller clock)
    std::deque<NegativeEntry> _negativeOrder; // insertion order, for expiry and the size bound

    mutable Counters _counters;
};

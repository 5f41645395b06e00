// One connection to Redis on the Qt event loop (hiredis async), with what hiredis 0.14 lacks:
// a deadline on every command (a server that accepts TCP but stops answering counts as down),
// AUTH/SELECT before anything else, reconnect with bounded jittered back-off, and a Qt-style state
// (Down / Connecting / Connected, error() + errorString(), stateChanged()). Nothing here blocks:
// host names resolve through QHostInfo, connect is non-blocking, replies arrive on this thread.
// A connection is either a command connection or, after subscribe(), a subscriber (Redis's rule:
// a subscribed connection sends nothing but (UN)SUBSCRIBE), so pub/sub needs a second instance.
// Never delete it from inside one of its callbacks or signals (use deleteLater()).
#pragma once

#include "RedisReply.h"
#include "RedisUrl.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>

#include <deque>
#include <functional>

struct redisAsyncContext;
class RedisEventAdapter;

class RedisConnection : public QObject {
    Q_OBJECT
public:
    enum class State { Down, Connecting, Connected };
    Q_ENUM(State)
    enum class Error {
        NoError,
        BadUrl,         // options.url is not valid (nothing is tried)
        HostNotFound,   // the name did not resolve
        ConnectFailed,  // TCP connect refused or failed
        AuthFailed,     // AUTH rejected (wrong password, unknown user)
        SelectFailed,   // SELECT rejected (database out of range)
        ConnectionLost, // the server closed the connection or the socket failed
        Timeout,        // a command (or the connect) had no reply within commandTimeoutMs
        Closed,         // close() was called
    };
    Q_ENUM(Error)

    struct Options {
        RedisUrl url;
        int commandTimeoutMs = 2000;
        // With nothing outstanding for this long, a PING (a subscriber: a repeated SUBSCRIBE) is
        // sent, so a dead server is noticed without traffic. 0 = never.
        int idleProbeMs = 5000;
        int reconnectMinMs = 250;   // first retry after about this long; doubles per failure
        int reconnectMaxMs = 15000; // ceiling of the back-off
        QString clientName;         // CLIENT SETNAME, shown by CLIENT LIST; [A-Za-z0-9._:-] only
    };

    struct Counters {
        quint64 commandsSent = 0; // including the handshake and probes
        quint64 errorReplies = 0; // -ERR replies
        quint64 failures = 0;     // times the connection went down (timeouts included)
        quint64 timeouts = 0;
        quint64 connectAttempts = 0;
        quint64 connects = 0; // handshakes completed
    };

    using ReplyCallback = std::function<void(const RedisReply &)>;
    using MessageCallback = std::function<void(const QByteArray &message)>;

    explicit RedisConnection(const Options &options, QObject *parent = nullptr);
    ~RedisConnection() override;

    // Starts connecting and keeps reconnecting after failures until close().
    void open();
    void close();

    State state() const { return _state; }
    bool isConnected() const { return _state == State::Connected; }
    // Why the connection is not (or was last not) up; NoError once connected.
    Error error() const { return _error; }
    QString errorString() const { return _errorString; }
    const Counters &counters() const { return _counters; }
    const Options &options() const { return _options; }
    // Commands sent whose reply has not come yet.
    int pendingCount() const { return int(_pendingSinceMs.size()); }

    // Sends a command (pipelined: no waiting for earlier replies). Returns false, and never calls
    // back, unless Connected and a command connection. Otherwise the callback runs exactly once on
    // this thread, with the reply or with NoReply if the connection fails first.
    bool command(const QList<QByteArray> &args, ReplyCallback callback = {});

    // Turns this into a subscriber: SUBSCRIBE channel now when connected and after every reconnect.
    // The callback gets each message published on the channel.
    void subscribe(const QByteArray &channel, MessageCallback callback);
    bool isSubscribed(const QByteArray &channel) const { return _confirmed.contains(channel); }

Q_SIGNALS:
    void stateChanged(RedisConnection::State state);
    // A SUBSCRIBE was confirmed by the server (after every reconnect, too).
    void subscribed(const QByteArray &channel);

private:
    struct Pending;
    static void onConnect(const redisAsyncContext *ctx, int status);
    static void onDisconnect(const redisAsyncContext *ctx, int status);
    static void onReply(redisAsyncContext *ctx, void *reply, void *privdata);
    static void onSubscription(redisAsyncContext *ctx, void *reply, void *privdata);

    void startConnect();
    void connectTo(const QString &address);
    void sendHandshake();
    bool send(const QList<QByteArray> &args, ReplyCallback callback);
    void sendSubscribe(const QByteArray &channel);
    void replyArrived(const RedisReply &reply);
    void handleSubscription(const RedisReply &reply);
    void checkDeadline();
    void fail(Error error, const QString &reason);
    void dropContext();
    void setState(State state);
    void scheduleReconnect();
    qint64 nowMs() const { return _clock.elapsed(); }

    Options _options;
    State _state = State::Down;
    Error _error = Error::NoError;
    QString _errorString;
    Counters _counters;
    bool _wanted = false;
    bool _destroying = false;
    int _lookupId = -1;
    int _failuresInARow = 0;

    redisAsyncContext *_ctx = nullptr;
    QPointer<RedisEventAdapter> _adapter;
    std::deque<qint64> _pendingSinceMs; // send time of each command still waiting for its reply
    qint64 _lastActivityMs = 0;
    QElapsedTimer _clock;
    QTimer _deadlineTimer;
    QTimer _reconnectTimer;

    QHash<QByteArray, MessageCallback> _subscriptions;
    QHash<QByteArray, bool> _confirmed; // channels the server confirmed on this connection
};

// The interface-stub's session: connect to one domain through ICE, report the socket and the time it
// took, then optionally ping the domain over the punched path, report RTTs, notice when the path
// dies and reconnect through the ice-server. It only wires NodeList and DomainHandler together with
// timers and prints; the protocol lives in the library roles.
#pragma once

#include <DomainHandler.h>

#include <IceExitCode.h>
#include <QtCore/QElapsedTimer>

#include <QtCore/QObject>
#include <QtCore/QTextStream>
#include <QtCore/QTimer>

class NodeList;

class StubClient : public QObject {
    Q_OBJECT
public:
    struct Options {
        QString iceServerHost;
        quint16 iceServerPort = DomainHandler::ICE_SERVER_DEFAULT_PORT;
        QUuid domainID;
        int timeoutMs = 20 * 1000; // per connection (and per reconnection)
        int keepaliveMs = 0;       // 0: exit once connected
        int keepaliveIntervalMs = 1000;
        int pathLostMs = 3000; // no reply this long: the path is dead
    };

    StubClient(NodeList *nodeList, const Options &options, QObject *parent = nullptr);

    void start();

Q_SIGNALS:
    void finished(int exitCode);

private:
    void connected(const SockAddr &socket);
    void failed(DomainHandler::Error error, const QString &errorString);
    void connectTimedOut();
    void sendKeepalivePing();
    void keepaliveReply(const SockAddr &sender);
    void keepaliveEnded();
    void finish(int exitCode);

    NodeList *_nodeList;
    DomainHandler &_handler;
    Options _options;
    QTextStream _out;
    QTextStream _err;

    // Without --keepalive: once connected, stay until we have answered one of the domain's pings (at
    // most LingerMs). A real client stays on; one that vanished the moment its own ping was answered
    // would leave the domain punching at it for a whole attempt, holding one of the few slots the
    // domain keeps per client address (tests/nat/README.md, "The punch schedule").
    static constexpr int LingerMs = 500;
    QTimer _linger;
    bool _domainPingAnswered = false; // in the current punch attempt

    QTimer _connectDeadline;
    QElapsedTimer _connectClock;
    bool _reconnecting = false;
    bool _done = false;

    QTimer _keepaliveTimer;
    QTimer _keepaliveEnd;
    QElapsedTimer _lastPingSent;
    QElapsedTimer _lastReply;
    bool _awaitingReply = false;
    bool _keepaliveExpired = false;
    int _pingsSent = 0;
    int _repliesReceived = 0;
    int _pathsLost = 0;
    double _rttMin = 0, _rttMax = 0, _rttSum = 0;
};

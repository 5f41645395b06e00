// ice-client's cycle (docs/protocol.md 4.6, rebuilt on our roles): on a fresh socket, learn the
// public socket by STUN, query the domain through the ice-server, ping-punch it; repeat N times.
// Each step is timed and printed; the first step that fails ends the run with its own exit code.
#pragma once

#include <DomainHandler.h>
#include <PunchTtlSchedule.h>
#include <RelayConfig.h>

#include <IceExitCode.h>
#include <QtCore/QElapsedTimer>

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTextStream>
#include <QtCore/QUuid>

class LimitedNodeList;
class NodeList;

class IceClientApp : public QObject {
    Q_OBJECT
public:
    struct Options {
        QString iceServerHost = QStringLiteral("127.0.0.1");
        quint16 iceServerPort = DomainHandler::ICE_SERVER_DEFAULT_PORT;
        QString stunHost; // empty: the ice-server
        quint16 stunPort = 0;
        QUuid domainID; // null: only check that the ice-server is reachable
        int cycles = 1;
        bool cacheStun = false; // keep socket and STUN result across cycles
        int maxQueries = 2;     // about 2 s, upstream's ICE timeout
        PunchTtlSchedule punchTtl = PunchTtlSchedule::defaultSchedule();
        RelayConfig relay;
    };

    explicit IceClientApp(const Options &options, QObject *parent = nullptr);
    void start();
    // At exit: frees the relay allocation, if any (runs the event loop briefly).
    void releaseRelay();

Q_SIGNALS:
    void finished(int exitCode);

private:
    void startCycle();
    void stunCompleted(bool succeeded);
    void discovered(const SockAddr &socket);
    void failed(DomainHandler::Error error, const QString &errorString);
    void cycleDone();
    void finish(int exitCode, const QString &message = QString());
    QString prefix() const;

    Options _options;
    QTextStream _out;
    QTextStream _err;
    QPointer<LimitedNodeList> _limitedNodeList;
    QPointer<NodeList> _nodeList;
    QElapsedTimer _stepClock;
    int _cycle = 0;
    bool _done = false;
};

// ice-server: reads its options (command line, then config file) into IceServerOptions and wires the
// parts (transport, key sources, IceServer, health, metrics, HTTP). No protocol logic lives here.
#include "DomainKeyStore.h"
#include "HealthMonitor.h"
#include "IceServer.h"
#include "IceServerLogging.h"
#include "IceServerMetrics.h"
#include "IceServerOptions.h"
#include "IceServerThreads.h"
#include "KeyDirectory.h"
#include "MetaverseKeyFetcher.h"
#include "SignalWatcher.h"
#include "StatusHttpServer.h"

#include <CommandLine.h>
#include <NetworkLogging.h>
#include <NetworkPeer.h>
#include <SocketTransport.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkInterface>

namespace {
bool hostHasIpv6() {
    for (const QHostAddress &address : QNetworkInterface::allAddresses()) {
        if (address.protocol() == QAbstractSocket::IPv6Protocol) {
            return true;
        }
    }
    return false;
}

// Binds every address asked for (or the wildcard ones); a missing IPv6 wildcard is only a warning.
bool bindUdp(SocketTransport *transport, const IceServerOptions &options, QString *error) {
    QList<QHostAddress> addresses = options.bind;
    if (addresses.isEmpty()) {
        addresses.append(QHostAddress(QHostAddress::AnyIPv4));
        if (hostHasIpv6()) {
            addresses.append(QHostAddress(QHostAddress::AnyIPv6));
        }
    }
    for (const QHostAddress &address : qAsConst(addresses)) {
        if (!transport->bind(address, options.port)) {
            if (!options.bind.isEmpty() || address.protocol() == QAbstractSocket::IPv4Protocol) {
                *error = transport->errorString();
                return false;
            }
            qCWarning(ice_server) << "IPv6 unavailable, serving IPv4 only:" << transport->errorString();
        }
    }
    if (options.receiveBufferBytes > 0) {
        transport->setReceiveBufferSize(options.receiveBufferBytes);
    }
    return true;
}

// What an operator checks first in the journal: where the options, the sockets and the keys are.
void logStartup(const QString &configPath, const QStringList &listening, const KeyDirectory &directory,
                const QUrl &metaverse) {
    if (!configPath.isEmpty()) {
        qCInfo(ice_server).noquote() << "options from" << configPath << "and the command line";
    }
    qCInfo(ice_server).noquote() << "ice-server" << QCoreApplication::applicationVersion() << "listening on UDP"
                                 << listening.join(QStringLiteral(", "));
    qCInfo(ice_server).noquote().nospace() << "trusted domain keys in " << directory.path() << " (" << directory.size()
                                           << " keys; add <domain-uuid>.pem files there, changes apply at once)";
    qCInfo(ice_server).noquote() << "metaverse key fetching:"
                                 << (metaverse.isEmpty() ? QStringLiteral("off (directory only)")
                                                         : metaverse.toString());
}

// /status and /metrics: refreshed from the server's counters once a second, served over HTTP.
class Observability {
public:
    using StatsProvider = std::function<IceServerStats()>;

    Observability(StatsProvider stats, const QStringList &listening)
        : _stats(std::move(stats)), _http([this] { return _health.report(); }, [this] { return _metrics.text(); }) {
        _health.setListening(listening);
        refresh();
        QObject::connect(&_timer, &QTimer::timeout, [this] { refresh(); });
        _timer.start(1000);
    }
    ~Observability() { _http.stop(); }

    bool start(const IceServerOptions &options, QString *error) {
        if (options.httpPort == 0) {
            qCInfo(ice_server) << "HTTP endpoint off";
            return true;
        }
        if (!_http.start(options.httpBind, options.httpPort, error)) {
            *error += QStringLiteral(" (use --http-port N to choose another port, 0 to turn it off)");
            return false;
        }
        qCInfo(ice_server).noquote() << "HTTP /status and /metrics on"
                                     << SockAddr(QHostAddress(options.httpBind), options.httpPort).toString();
        return true;
    }

private:
    void refresh() {
        const IceServerStats stats = _stats();
        _health.update(stats, monotonicMs());
        _metrics.update(stats, _health.report().healthy);
    }

    StatsProvider _stats;
    HealthMonitor _health;
    IceServerMetrics _metrics;
    QTimer _timer;
    StatusHttpServer _http;
};
} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ice-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(ICEBREAKER_VERSION));
    installDaemonMessagePattern();

    CommandLine commandLine;
    IceServerOptions::declare(&commandLine, QStringLiteral(ICEBREAKER_ICE_SERVER_CONFIG));
    IceServerOptions options;
    if (commandLine.parse(QCoreApplication::arguments()) != CommandLine::Outcome::Run
        || !IceServerOptions::read(&commandLine, &options)) {
        return commandLine.finish();
    }
    QLoggingCategory::setFilterRules(options.loggingRules());

    QString error; // UDP first (without it there is nothing to serve), then the keys.
    KeyDirectory directory(options.keysDir, options.keysRescanMs);
    MetaverseKeyFetcher *fetcher = options.fetch.metaverseUrl.isEmpty() ? nullptr
                                                                        : new MetaverseKeyFetcher(options.fetch, &app);
    DomainKeyStore keys(&directory, fetcher, options.fetch);

    // One thread: the server on the main thread, as always. Several: IceServerThreads, one socket
    // per address and thread on the same port.
    const int threads = options.effectiveThreads();
    std::unique_ptr<SocketTransport> transport;
    std::unique_ptr<IceServer> server;
    IceServerThreads workers(&keys, options.server);
    QList<SockAddr> bound;
    QString transportClass;
    if (threads == 1) {
        transport = makeSocketTransport(options.transport);
        if (!bindUdp(transport.get(), options, &error)) {
            return CommandLine::printError(error);
        }
        bound = transport->boundSockets();
        transportClass = QLatin1String(transport->metaObject()->className());
    } else {
        // The workers serve as soon as they are bound: the keys must be there first.
        if (!directory.start(&error)) {
            return CommandLine::printError(error);
        }
        const bool started = workers.start(threads, options.port, [&](quint16 port, QString *bindError) {
            std::unique_ptr<SocketTransport> t = makeSocketTransport(options.transport);
            t->setReusePort(true);
            IceServerOptions perThread = options;
            perThread.port = port;
            if (!bindUdp(t.get(), perThread, bindError)) {
                return std::unique_ptr<SocketTransport>();
            }
            transportClass = QLatin1String(t->metaObject()->className());
            return t;
        });
        if (!started) {
            return CommandLine::printError(workers.errorString());
        }
        bound = workers.boundSockets();
    }
    QStringList listening;
    for (const SockAddr &socket : qAsConst(bound)) {
        listening.append(socket.toString());
    }
    if (threads == 1) {
        if (!directory.start(&error)) {
            return CommandLine::printError(error);
        }
        server = std::make_unique<IceServer>(transport.get(), &keys, options.server);
        server->start();
    }

    logStartup(commandLine.configPath(), listening, directory, options.fetch.metaverseUrl);
    qCInfo(ice_server).noquote() << "UDP transport:" << transportClass << "on" << threads
                                 << (threads == 1 ? "thread" : "threads (SO_REUSEPORT)");

    Observability observability([&]() { return threads == 1 ? server->stats() : workers.stats(); }, listening);
    if (!observability.start(options, &error)) {
        return CommandLine::printError(error);
    }
    SignalWatcher signalWatcher;
    signalWatcher.install();
    QObject::connect(&signalWatcher, &SignalWatcher::terminationRequested, &app, [](int signalNumber) {
        qCInfo(ice_server) << "signal" << signalNumber << "received, stopping";
        QCoreApplication::quit();
    });

    const int code = QCoreApplication::exec();
    workers.stop(); // joins the worker threads while the key store they read still exists
    qCInfo(ice_server) << "stopped";
    return code;
}

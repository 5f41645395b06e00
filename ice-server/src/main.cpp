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
#include "cluster/ClusterLink.h"
#include "cluster/ClusterLogging.h"

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

    Observability(StatsProvider stats, const ClusterLink *cluster, const QStringList &listening)
        : _stats(std::move(stats)), _cluster(cluster),
          _http([this] { return _health.report(); }, [this] { return _metrics.text(); }) {
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
                                     << IpEndpoint(QHostAddress(options.httpBind), options.httpPort).toString();
        return true;
    }

private:
    void refresh() {
        const IceServerStats stats = _stats();
        if (!_cluster) {
            _health.update(stats, monotonicMs());
            _metrics.update(stats, _health.report().healthy);
            return;
        }
        const ClusterLink::Status cluster = _cluster->status();
        _health.update(stats, monotonicMs(), &cluster);
        _metrics.update(stats, _health.report().healthy);
        _metrics.updateCluster(cluster);
    }

    StatsProvider _stats;
    const ClusterLink *_cluster;
    HealthMonitor _health;
    IceServerMetrics _metrics;
    QTimer _timer;
    StatusHttpServer _http;
};
// Cluster mode: the registry (two Redis connections) and the link that hooks it into the server.
struct Cluster {
    Cluster(const IceServerOptions &options, quint16 boundPort, IceServer *server) {
        ClusterRegistry::Options o;
        o.url = options.cluster;
        o.nodeId = options.nodeId.isEmpty() ? IceServerOptions::defaultNodeId(boundPort) : options.nodeId;
        o.peerTimeoutMs = options.server.peerTimeoutMs;
        registry = std::make_unique<ClusterRegistry>(o);
        link = std::make_unique<ClusterLink>(registry.get());
        link->attach(server);
        QObject::connect(registry.get(), &ClusterRegistry::healthChanged, registry.get(), [this](bool healthy) {
            if (healthy) {
                qCInfo(ice_cluster).noquote() << "cluster: Redis" << registry->options().url.redacted() << "is up";
            } else {
                qCWarning(ice_cluster).noquote().nospace()
                    << "cluster: Redis " << registry->options().url.redacted() << " unavailable ("
                    << registry->errorString() << "); serving local domains only";
            }
        });
        qCInfo(ice_cluster).noquote() << "cluster mode: node" << o.nodeId << "with Redis" << o.url.redacted();
        registry->start();
    }
    // The link goes first: it detaches from the server; the registry then fails what is in flight.
    ~Cluster() {
        link.reset();
        registry->stop();
    }

    std::unique_ptr<ClusterRegistry> registry;
    std::unique_ptr<ClusterLink> link;
};

// The UDP side: one IceServer on the main thread (--threads 1, and always in cluster mode), or
// IceServerThreads with one SO_REUSEPORT socket per thread and address, all on the same port.
class UdpService {
public:
    UdpService(const IceServerOptions &options, DomainKeyStore *keys)
        : _options(options), _keys(keys), _threads(options.effectiveThreads()), _workers(keys, options.server) {}
    // Joins the worker threads while the key store they read still exists.
    ~UdpService() { _workers.stop(); }

    // Binds (UDP first: without it there is nothing to serve) and starts the key directory. Workers
    // serve as soon as they are bound, so for them the keys come first; the single server is built
    // here and serves from serve(), after the cluster, if any, is attached to it.
    bool start(KeyDirectory *directory, QString *error) {
        if (_threads > 1) {
            if (!directory->start(error)) {
                return false;
            }
            const bool started = _workers.start(_threads, _options.port, [this](quint16 port, QString *bindError) {
                std::unique_ptr<SocketTransport> transport = makeSocketTransport(_options.transport);
                transport->setReusePort(true);
                IceServerOptions perThread = _options;
                perThread.port = port;
                if (!bindUdp(transport.get(), perThread, bindError)) {
                    return std::unique_ptr<SocketTransport>();
                }
                _transportClass = QLatin1String(transport->metaObject()->className());
                return transport;
            });
            if (!started) {
                *error = _workers.errorString();
                return false;
            }
            bound = _workers.boundSockets();
            return true;
        }
        _transport = makeSocketTransport(_options.transport);
        if (!bindUdp(_transport.get(), _options, error) || !directory->start(error)) {
            return false;
        }
        bound = _transport->boundSockets();
        _transportClass = QLatin1String(_transport->metaObject()->className());
        server = std::make_unique<IceServer>(_transport.get(), _keys, _options.server);
        return true;
    }
    void serve() {
        if (server) {
            server->start();
        }
        qCInfo(ice_server).noquote() << "UDP transport:" << _transportClass << "on" << _threads
                                     << (_threads == 1 ? "thread" : "threads (SO_REUSEPORT)");
    }
    IceServerStats stats() const { return server ? server->stats() : _workers.stats(); }
    QStringList listening() const {
        QStringList sockets;
        for (const IpEndpoint &socket : bound) {
            sockets.append(socket.toString());
        }
        return sockets;
    }

    QList<IpEndpoint> bound;
    std::unique_ptr<IceServer> server; // one thread only

private:
    const IceServerOptions &_options;
    DomainKeyStore *_keys;
    const int _threads;
    std::unique_ptr<SocketTransport> _transport;
    IceServerThreads _workers;
    QString _transportClass;
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

    QString error;
    KeyDirectory directory(options.keysDir, options.keysRescanMs);
    MetaverseKeyFetcher *fetcher = options.fetch.metaverseUrl.isEmpty() ? nullptr
                                                                        : new MetaverseKeyFetcher(options.fetch, &app);
    DomainKeyStore keys(&directory, fetcher, options.fetch);
    UdpService udp(options, &keys);
    if (!udp.start(&directory, &error)) {
        return CommandLine::printError(error);
    }
    std::unique_ptr<Cluster> cluster;
    if (options.clusterEnabled()) { // one thread in cluster mode (IceServerOptions::effectiveThreads)
        const quint16 port = udp.bound.isEmpty() ? options.port : udp.bound.first().getPort();
        cluster = std::make_unique<Cluster>(options, port, udp.server.get());
    }
    logStartup(commandLine.configPath(), udp.listening(), directory, options.fetch.metaverseUrl);
    udp.serve();

    Observability observability([&udp] { return udp.stats(); }, cluster ? cluster->link.get() : nullptr,
                                udp.listening());
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
    qCInfo(ice_server) << "stopped";
    return code;
}

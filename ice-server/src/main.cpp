// ice-server: parses the command line and wires the parts (transport, key sources, IceServer,
// health, metrics, HTTP). No protocol logic lives here.
#include "DomainKeyStore.h"
#include "HealthMonitor.h"
#include "IceServer.h"
#include "IceServerLogging.h"
#include "IceServerMetrics.h"
#include "KeyDirectory.h"
#include "MetaverseKeyFetcher.h"
#include "SignalWatcher.h"
#include "StatusHttpServer.h"

#include <NetworkLogging.h>
#include <NetworkPeer.h>
#include <SocketTransport.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QStandardPaths>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkInterface>

#include <cstdio>

namespace {
constexpr quint16 DefaultPort = 7337; // ICE_SERVER_DEFAULT_PORT (protocol section 1)
constexpr quint16 DefaultHttpPort = 7338;

int fail(const QString &message, int code = 1) {
    std::fprintf(stderr, "ice-server: %s\n", qPrintable(message));
    return code;
}

QString defaultKeysDir() {
    // systemd's StateDirectory= sets STATE_DIRECTORY; otherwise the user's data directory.
    const QString state = qEnvironmentVariable("STATE_DIRECTORY").section(QLatin1Char(':'), 0, 0);
    if (!state.isEmpty()) {
        return QDir(state).filePath(QStringLiteral("keys"));
    }
    return QDir(QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation))
        .filePath(QStringLiteral("icebreaker/ice-server/keys"));
}

bool hostHasIpv6() {
    for (const QHostAddress &address : QNetworkInterface::allAddresses()) {
        if (address.protocol() == QAbstractSocket::IPv6Protocol) {
            return true;
        }
    }
    return false;
}

// Reads a whole-number option within [min, max]; on error sets *error.
qint64 number(const QCommandLineParser &parser, const QCommandLineOption &option, qint64 min, qint64 max,
              QString *error) {
    const QString text = parser.value(option);
    bool ok = false;
    const qint64 value = text.toLongLong(&ok);
    if (!ok || value < min || value > max) {
        *error = QStringLiteral("--%1 wants a whole number from %2 to %3, not '%4'")
                     .arg(option.names().constLast()).arg(min).arg(max).arg(text);
        return min;
    }
    return value;
}
} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ice-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(ICEBREAKER_VERSION));
    installDaemonMessagePattern();

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Icebreaker ice-server: the public rendezvous point of Overte/High Fidelity ICE (NAT traversal).\n"
        "Domains register with signed heartbeats; clients query a domain ID and both sides learn each\n"
        "other's sockets. Also answers STUN binding requests on the same port."));
    parser.addHelpOption();
    // Qt's addVersionOption() takes -v, which operators expect to mean verbose.
    const QCommandLineOption versionOption(QStringLiteral("version"), QStringLiteral("Displays version information."));
    parser.addOption(versionOption);
    const QCommandLineOption bindOption(QStringLiteral("bind"),
        QStringLiteral("UDP address to listen on; repeat for several (default: all IPv4 addresses, plus all IPv6 "
                       "addresses when the host has IPv6)."), QStringLiteral("ADDR"));
    const QCommandLineOption portOption(QStringLiteral("port"),
        QStringLiteral("UDP port (default %1; 0 picks a free one).").arg(DefaultPort), QStringLiteral("N"),
        QString::number(DefaultPort));
    const QCommandLineOption keysOption(QStringLiteral("keys-dir"),
        QStringLiteral("Directory of trusted domain public keys, one file per domain named <domain-uuid> "
                       "(optionally .pem/.der/.pub), PEM, DER or base64; created when missing; changes apply "
                       "without a restart (default: %1).").arg(defaultKeysDir()), QStringLiteral("DIR"),
        defaultKeysDir());
    const QCommandLineOption rescanOption(QStringLiteral("keys-rescan"),
        QStringLiteral("Also rescan the key directory every MS milliseconds, for file systems that do not report "
                       "changes (default 30000; 0 = only on change)."), QStringLiteral("MS"), QStringLiteral("30000"));
    const QCommandLineOption metaverseOption(QStringLiteral("metaverse-url"),
        QStringLiteral("Fetch keys the directory does not have from this metaverse server "
                       "(GET /api/v1/domains/<id>/public_key). Default: the HIFI_METAVERSE_URL environment "
                       "variable; unset = directory only."), QStringLiteral("URL"));
    const QCommandLineOption fetchTimeoutOption(QStringLiteral("key-fetch-timeout"),
        QStringLiteral("Abort a key fetch after MS milliseconds (default 5000)."), QStringLiteral("MS"), QStringLiteral("5000"));
    const QCommandLineOption fetchInFlightOption(QStringLiteral("key-fetch-max-in-flight"),
        QStringLiteral("Key fetches at once (default 16)."), QStringLiteral("N"), QStringLiteral("16"));
    const QCommandLineOption fetchRateOption(QStringLiteral("key-fetch-per-second"),
        QStringLiteral("New key fetches per second (default 10)."), QStringLiteral("N"), QStringLiteral("10"));
    const QCommandLineOption keyTtlOption(QStringLiteral("key-cache-ttl"),
        QStringLiteral("Keep a fetched key this many seconds, whether or not its domain is silent (default 3600)."),
        QStringLiteral("S"), QStringLiteral("3600"));
    const QCommandLineOption negativeTtlOption(QStringLiteral("key-negative-ttl"),
        QStringLiteral("Do not ask again for a domain the metaverse does not know for this many seconds (default 60)."),
        QStringLiteral("S"), QStringLiteral("60"));
    const QCommandLineOption refetchOption(QStringLiteral("key-refetch-interval"),
        QStringLiteral("Re-fetch the key of a domain whose heartbeat failed to verify at most once per this many "
                       "seconds (default 60)."),
        QStringLiteral("S"), QStringLiteral("60"));
    const QCommandLineOption httpPortOption(QStringLiteral("http-port"),
        QStringLiteral("TCP port of the HTTP endpoint with /status and /metrics (default %1; 0 turns it off).")
            .arg(DefaultHttpPort), QStringLiteral("N"), QString::number(DefaultHttpPort));
    const QCommandLineOption httpBindOption(QStringLiteral("http-bind"),
        QStringLiteral("Address of the HTTP endpoint (default 127.0.0.1; use 0.0.0.0 to let a remote Prometheus "
                       "scrape it)."), QStringLiteral("ADDR"), QStringLiteral("127.0.0.1"));
    const QCommandLineOption peerTimeoutOption(QStringLiteral("peer-timeout"),
        QStringLiteral("Drop a domain after MS milliseconds without an accepted heartbeat (default 5000)."),
        QStringLiteral("MS"), QStringLiteral("5000"));
    const QCommandLineOption maxDomainsOption(QStringLiteral("max-domains"),
        QStringLiteral("Registered domains at most (default 250000)."), QStringLiteral("N"), QStringLiteral("250000"));
    const QCommandLineOption rateOption(QStringLiteral("rate-limit"),
        QStringLiteral("Packets per second allowed from one source IP address, all types together "
                       "(default 50; 0 turns rate limiting off)."), QStringLiteral("PPS"), QStringLiteral("50"));
    const QCommandLineOption burstOption(QStringLiteral("rate-burst"),
        QStringLiteral("Packets a source IP may send at once before its rate applies (default 100)."),
        QStringLiteral("N"), QStringLiteral("100"));
    const QCommandLineOption sourcesOption(QStringLiteral("rate-limit-sources"),
        QStringLiteral("Source addresses tracked by the rate limiter; the least recently seen is forgotten "
                       "first (default 65536)."), QStringLiteral("N"), QStringLiteral("65536"));
    const QCommandLineOption bufferOption(QStringLiteral("receive-buffer"),
        QStringLiteral("Kernel UDP receive buffer in bytes (default 4194304; the kernel may cap it at "
                       "net.core.rmem_max)."), QStringLiteral("BYTES"), QStringLiteral("4194304"));
    const QCommandLineOption transportOption(QStringLiteral("transport"),
        QStringLiteral("UDP socket implementation: native (Linux: recvmmsg/sendmmsg batches), qt (QUdpSocket) or "
                       "auto (native where available; default)."), QStringLiteral("KIND"), QStringLiteral("auto"));
    const QCommandLineOption verboseOption(QStringList { QStringLiteral("v"), QStringLiteral("verbose") },
        QStringLiteral("Log every packet (category hifi.ice-server.packets) and debug messages."));
    const QCommandLineOption logRulesOption(QStringLiteral("log-rules"),
        QStringLiteral("Qt logging rules, e.g. \"hifi.ice-server.debug=true\" (QT_LOGGING_RULES also works)."),
        QStringLiteral("RULES"));
    for (const QCommandLineOption *option : { &bindOption, &portOption, &keysOption, &rescanOption, &metaverseOption,
                                              &fetchTimeoutOption, &fetchInFlightOption, &fetchRateOption, &keyTtlOption,
                                              &negativeTtlOption, &refetchOption, &httpPortOption, &httpBindOption, &peerTimeoutOption,
                                              &maxDomainsOption, &rateOption, &burstOption, &sourcesOption,
                                              &bufferOption, &transportOption, &verboseOption, &logRulesOption }) {
        parser.addOption(*option);
    }

    if (!parser.parse(QCoreApplication::arguments())) {
        return fail(parser.errorText() + QStringLiteral("\nTry 'ice-server --help'."), 2);
    }
    if (parser.isSet(QStringLiteral("help"))) {
        parser.showHelp(0);
    }
    if (parser.isSet(versionOption)) {
        parser.showVersion();
    }
    if (!parser.positionalArguments().isEmpty()) {
        return fail(QStringLiteral("unexpected argument '%1'\nTry 'ice-server --help'.")
                        .arg(parser.positionalArguments().constFirst()), 2);
    }

    QString error;
    IceServerSettings settings;
    KeyFetchSettings fetch;
    const quint16 port = quint16(number(parser, portOption, 0, 65535, &error));
    const int rescanMs = int(number(parser, rescanOption, 0, 86400000, &error));
    fetch.timeoutMs = int(number(parser, fetchTimeoutOption, 100, 600000, &error));
    fetch.maxInFlight = int(number(parser, fetchInFlightOption, 1, 10000, &error));
    fetch.maxPerSecond = double(number(parser, fetchRateOption, 1, 100000, &error));
    fetch.keyTtlMs = int(number(parser, keyTtlOption, 1, 86400 * 7, &error) * 1000);
    fetch.negativeTtlMs = int(number(parser, negativeTtlOption, 0, 86400, &error) * 1000);
    fetch.refetchAfterFailedVerifyMs = int(number(parser, refetchOption, 1, 86400, &error) * 1000);
    const quint16 httpPort = quint16(number(parser, httpPortOption, 0, 65535, &error));
    settings.peerTimeoutMs = int(number(parser, peerTimeoutOption, 100, 3600000, &error));
    settings.maxDomains = int(number(parser, maxDomainsOption, 1, 100000000, &error));
    settings.rateLimit.packetsPerSecond = double(number(parser, rateOption, 0, 100000000, &error));
    settings.rateLimit.burst = double(number(parser, burstOption, 1, 100000000, &error));
    settings.rateLimit.maxSources = int(number(parser, sourcesOption, 1, 100000000, &error));
    const int receiveBuffer = int(number(parser, bufferOption, 0, 1 << 30, &error));
    bool knownTransport = false;
    const TransportKind transportKind = parseTransportKind(parser.value(transportOption), &knownTransport);
    if (!knownTransport) {
        error = QStringLiteral("--transport wants auto, qt or native, not '%1'").arg(parser.value(transportOption));
    }
    if (!error.isEmpty()) {
        return fail(error + QStringLiteral("\nTry 'ice-server --help'."), 2);
    }
    const QString metaverse = parser.isSet(metaverseOption) ? parser.value(metaverseOption)
                                                            : qEnvironmentVariable("HIFI_METAVERSE_URL");
    if (!metaverse.isEmpty()) {
        fetch.metaverseUrl = QUrl(metaverse, QUrl::StrictMode);
        if (!fetch.metaverseUrl.isValid() || !fetch.metaverseUrl.scheme().startsWith(QLatin1String("http"))) {
            return fail(QStringLiteral("--metaverse-url wants an http(s) URL, not '%1'").arg(metaverse), 2);
        }
    }

    QString rules = parser.isSet(verboseOption)
        ? QStringLiteral("hifi.*.debug=true\nhifi.ice-server.packets.debug=true\nhifi.networking.packets.debug=true")
        : QStringLiteral("hifi.*.debug=false");
    if (parser.isSet(logRulesOption)) {
        rules += QLatin1Char('\n') + parser.value(logRulesOption).replace(QLatin1Char(';'), QLatin1Char('\n'));
    }
    QLoggingCategory::setFilterRules(rules);

    // UDP first: without it there is nothing to serve.
    const std::unique_ptr<SocketTransport> transport = makeSocketTransport(transportKind);
    QList<QHostAddress> addresses;
    const bool explicitBind = parser.isSet(bindOption);
    for (const QString &text : parser.values(bindOption)) {
        QHostAddress address;
        if (!address.setAddress(text)) {
            return fail(QStringLiteral("--bind wants an IP address, not '%1'").arg(text), 2);
        }
        addresses.append(address);
    }
    if (!explicitBind) {
        addresses.append(QHostAddress(QHostAddress::AnyIPv4));
        if (hostHasIpv6()) {
            addresses.append(QHostAddress(QHostAddress::AnyIPv6));
        }
    }
    for (const QHostAddress &address : qAsConst(addresses)) {
        if (!transport->bind(address, port)) {
            if (explicitBind || address.protocol() == QAbstractSocket::IPv4Protocol) {
                return fail(transport->errorString());
            }
            qCWarning(ice_server) << "IPv6 unavailable, serving IPv4 only:" << transport->errorString();
        }
    }
    if (receiveBuffer > 0) {
        transport->setReceiveBufferSize(receiveBuffer);
    }
    QStringList listening;
    for (const SockAddr &socket : transport->boundSockets()) {
        listening.append(socket.toString());
    }

    KeyDirectory directory(parser.value(keysOption), rescanMs);
    if (!directory.start(&error)) {
        return fail(error);
    }
    MetaverseKeyFetcher *fetcher = nullptr;
    if (!fetch.metaverseUrl.isEmpty()) {
        fetcher = new MetaverseKeyFetcher(fetch, &app);
    }
    DomainKeyStore keys(&directory, fetcher, fetch);
    IceServer server(transport.get(), &keys, settings);
    server.start();

    qCInfo(ice_server).noquote() << "ice-server" << QCoreApplication::applicationVersion() << "listening on UDP"
                                 << listening.join(QStringLiteral(", "));
    qCInfo(ice_server).noquote() << "UDP transport:" << transport->metaObject()->className();
    qCInfo(ice_server).noquote().nospace() << "trusted domain keys in " << directory.path() << " (" << directory.size()
                                           << " keys; add <domain-uuid>.pem files there, changes apply at once)";
    qCInfo(ice_server).noquote() << "metaverse key fetching:"
                                 << (fetcher ? fetch.metaverseUrl.toString() : QStringLiteral("off (directory only)"));

    HealthMonitor health;
    health.setListening(listening);
    IceServerMetrics metrics;
    auto refresh = [&] {
        const IceServerStats stats = server.stats();
        health.update(stats, monotonicMs());
        metrics.update(stats, health.report().healthy);
    };
    refresh();
    QTimer observe;
    QObject::connect(&observe, &QTimer::timeout, &app, refresh);
    observe.start(1000);

    StatusHttpServer http([&health] { return health.report(); }, [&metrics] { return metrics.text(); });
    if (httpPort != 0) {
        if (!http.start(parser.value(httpBindOption), httpPort, &error)) {
            return fail(error + QStringLiteral(" (use --http-port N to choose another port, 0 to turn it off)"));
        }
        qCInfo(ice_server).noquote() << "HTTP /status and /metrics on"
                                     << SockAddr(QHostAddress(parser.value(httpBindOption)), httpPort).toString();
    } else {
        qCInfo(ice_server) << "HTTP endpoint off";
    }

    SignalWatcher signalWatcher;
    signalWatcher.install();
    QObject::connect(&signalWatcher, &SignalWatcher::terminationRequested, &app, [](int signalNumber) {
        qCInfo(ice_server) << "signal" << signalNumber << "received, stopping";
        QCoreApplication::quit();
    });

    const int code = QCoreApplication::exec();
    http.stop();
    qCInfo(ice_server) << "stopped";
    return code;
}

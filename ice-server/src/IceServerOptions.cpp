#include "IceServerOptions.h"

#include <CommandLine.h>

#include <QtCore/QDir>
#include <QtCore/QRegularExpression>
#include <QtCore/QStandardPaths>
#include <QtCore/QThread>
#include <QtNetwork/QHostInfo>

namespace {
QCommandLineOption option(const QStringList &names, const QString &description, const QString &valueName = QString(),
                          const QString &defaultValue = QString()) {
    return QCommandLineOption(names, description, valueName, defaultValue);
}
QCommandLineOption option(const char *name, const QString &description, const QString &valueName = QString(),
                          const QString &defaultValue = QString()) {
    return option(QStringList { QLatin1String(name) }, description, valueName, defaultValue);
}
} // namespace

QString IceServerOptions::defaultKeysDir() {
    const QString state = qEnvironmentVariable("STATE_DIRECTORY").section(QLatin1Char(':'), 0, 0);
    if (!state.isEmpty()) {
        return QDir(state).filePath(QStringLiteral("keys"));
    }
    return QDir(QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation))
        .filePath(QStringLiteral("icebreaker/ice-server/keys"));
}

QString IceServerOptions::defaultNodeId(quint16 boundPort) {
    QString host = QHostInfo::localHostName();
    // The ID names a Redis client and key: keep it to the characters both allow.
    host.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")), QStringLiteral("-"));
    return QStringLiteral("%1:%2").arg(host.isEmpty() ? QStringLiteral("ice-server") : host).arg(boundPort);
}

int IceServerOptions::defaultThreads() {
    if (!SocketTransport::reusePortAvailable()) {
        return 1;
    }
    return qBound(1, QThread::idealThreadCount(), MaxThreads);
}

QString IceServerOptions::loggingRules() const {
    QString rules = verbose ? QStringLiteral(
                        "hifi.*.debug=true\nhifi.ice-server.packets.debug=true\nhifi.networking.packets.debug=true")
                            : QStringLiteral("hifi.*.debug=false");
    if (!logRules.isEmpty()) {
        rules += QLatin1Char('\n') + QString(logRules).replace(QLatin1Char(';'), QLatin1Char('\n'));
    }
    return rules;
}

void IceServerOptions::declare(CommandLine *commandLine, const QString &defaultConfigPath) {
    const IceServerOptions defaults;
    CommandLine &cl = *commandLine;
    cl.setDescription(QStringLiteral(
        "Icebreaker ice-server: the public rendezvous point of Overte/High Fidelity ICE (NAT traversal).\n"
        "Domains register with signed heartbeats; clients query a domain ID and both sides learn each\n"
        "other's sockets. Also answers STUN binding requests on the same port."));
    cl.setUsageError(2, QStringLiteral("Try 'ice-server --help'."));
    // Qt's addVersionOption() takes -v, which operators expect to mean verbose.
    cl.addVersionOption({ QStringLiteral("version") });
    cl.addConfigFileOption(defaultConfigPath);
    cl.addOption(option("bind",
                        QStringLiteral(
                            "UDP address to listen on; repeat for several (default: all IPv4 addresses, plus all IPv6 "
                            "addresses when the host has IPv6)."),
                        QStringLiteral("ADDR")),
                 CommandLine::Occurs::Repeatable);
    cl.addOption(option("port", QStringLiteral("UDP port (default %1; 0 picks a free one).").arg(DefaultPort),
                        QStringLiteral("N"), QString::number(DefaultPort)));
    cl.addOption(
        option("keys-dir",
               QStringLiteral("Directory of trusted domain public keys, one file per domain named <domain-uuid> "
                              "(optionally .pem/.der/.pub), PEM, DER or base64; created when missing; changes apply "
                              "without a restart (default: %1).")
                   .arg(defaults.keysDir),
               QStringLiteral("DIR"), defaults.keysDir));
    cl.addOption(option(
        "keys-rescan",
        QStringLiteral("Also rescan the key directory every MS milliseconds, for file systems that do not report "
                       "changes (default 30000; 0 = only on change)."),
        QStringLiteral("MS"), QStringLiteral("30000")));
    cl.addOption(
        option("metaverse-url",
               QStringLiteral("Fetch keys the directory does not have from this metaverse server "
                              "(GET /api/v1/domains/<id>/public_key). Default: the HIFI_METAVERSE_URL environment "
                              "variable; unset = directory only."),
               QStringLiteral("URL")));
    cl.addOption(option("key-fetch-timeout", QStringLiteral("Abort a key fetch after MS milliseconds (default 5000)."),
                        QStringLiteral("MS"), QStringLiteral("5000")));
    cl.addOption(option("key-fetch-max-in-flight", QStringLiteral("Key fetches at once (default 16)."),
                        QStringLiteral("N"), QStringLiteral("16")));
    cl.addOption(option("key-fetch-per-second", QStringLiteral("New key fetches per second (default 10)."),
                        QStringLiteral("N"), QStringLiteral("10")));
    cl.addOption(option(
        "key-cache-ttl",
        QStringLiteral("Keep a fetched key this many seconds, whether or not its domain is silent (default 3600)."),
        QStringLiteral("S"), QStringLiteral("3600")));
    cl.addOption(option(
        "key-negative-ttl",
        QStringLiteral("Do not ask again for a domain the metaverse does not know for this many seconds (default 60)."),
        QStringLiteral("S"), QStringLiteral("60")));
    cl.addOption(option(
        "key-refetch-interval",
        QStringLiteral("Re-fetch the key of a domain whose heartbeat failed to verify at most once per this many "
                       "seconds (default 60)."),
        QStringLiteral("S"), QStringLiteral("60")));
    cl.addOption(
        option("http-port",
               QStringLiteral("TCP port of the HTTP endpoint with /status and /metrics (default %1; 0 turns it off).")
                   .arg(DefaultHttpPort),
               QStringLiteral("N"), QString::number(DefaultHttpPort)));
    cl.addOption(
        option("http-bind",
               QStringLiteral("Address of the HTTP endpoint (default 127.0.0.1; use 0.0.0.0 to let a remote Prometheus "
                              "scrape it)."),
               QStringLiteral("ADDR"), QStringLiteral("127.0.0.1")));
    cl.addOption(
        option("peer-timeout",
               QStringLiteral("Drop a domain after MS milliseconds without an accepted heartbeat (default 5000)."),
               QStringLiteral("MS"), QStringLiteral("5000")));
    cl.addOption(option("max-domains", QStringLiteral("Registered domains at most (default 250000)."),
                        QStringLiteral("N"), QStringLiteral("250000")));
    cl.addOption(option("rate-limit",
                        QStringLiteral("Packets per second allowed from one source IP address, all types together "
                                       "(default 50; 0 turns rate limiting off)."),
                        QStringLiteral("PPS"), QStringLiteral("50")));
    cl.addOption(option("rate-burst",
                        QStringLiteral("Packets a source IP may send at once before its rate applies (default 100)."),
                        QStringLiteral("N"), QStringLiteral("100")));
    cl.addOption(
        option("rate-limit-sources",
               QStringLiteral("Source addresses tracked by the rate limiter; the least recently seen is forgotten "
                              "first (default 65536)."),
               QStringLiteral("N"), QStringLiteral("65536")));
    cl.addOption(option("trusted-relay",
                        QStringLiteral("IP address of a TURN server whose relayed domains and clients heartbeat and "
                                       "query here. Each relayed address (IP and port) is then limited on its own, "
                                       "and the relay IP as a whole by the relay rate limit. Repeat for several."),
                        QStringLiteral("ADDR")),
                 CommandLine::Occurs::Repeatable);
    cl.addOption(option("relay-rate-limit",
                        QStringLiteral("Packets per second allowed from all relayed addresses of one --trusted-relay "
                                       "together (default 5000; its burst is twice that)."),
                        QStringLiteral("PPS"), QStringLiteral("5000")));
    cl.addOption(option("receive-buffer",
                        QStringLiteral("Kernel UDP receive buffer in bytes (default 4194304; the kernel may cap it at "
                                       "net.core.rmem_max)."),
                        QStringLiteral("BYTES"), QStringLiteral("4194304")));
    cl.addOption(option(
        "transport",
        QStringLiteral("UDP socket implementation: native (Linux: recvmmsg/sendmmsg batches), qt (QUdpSocket) or "
                       "auto (native where available; default)."),
        QStringLiteral("KIND"), QStringLiteral("auto")));
    cl.addOption(
        option("cluster",
               QStringLiteral("Share domain registrations with the other ice-servers of a cluster through this Redis: "
                              "redis://[user:password@]HOST[:PORT][/DB] (default port 6379, database 0). Any node then "
                              "answers queries for any domain. Put a password in the config file, not on the command "
                              "line; it is never logged. Default: off (a single node)."),
               QStringLiteral("URL")));
    cl.addOption(option("node-id",
                        QStringLiteral("This node's name in the cluster, unique per node: letters, digits and "
                                       ".:_- (default: hostname:port)."),
                        QStringLiteral("NAME")));
    cl.addOption(option("threads",
                        QStringLiteral("Threads serving UDP, each with its own socket on the same port (SO_REUSEPORT); "
                                       "all share one domain table. 0 = one per core, at most %1 (default; here %2); "
                                       "1 = everything on one thread (always so with --cluster, for now).")
                            .arg(MaxThreads)
                            .arg(defaultThreads()),
                        QStringLiteral("N"), QStringLiteral("0")));
    cl.addOption(option({ QStringLiteral("v"), QStringLiteral("verbose") },
                        QStringLiteral("Log every packet (category hifi.ice-server.packets) and debug messages.")));
    cl.addOption(
        option("log-rules",
               QStringLiteral("Qt logging rules, e.g. \"hifi.ice-server.debug=true\" (QT_LOGGING_RULES also works)."),
               QStringLiteral("RULES")));
}

bool IceServerOptions::read(CommandLine *commandLine, IceServerOptions *options) {
    CommandLine &cl = *commandLine;
    IceServerOptions &o = *options;
    o.port = quint16(cl.number(QStringLiteral("port"), 0, 65535));
    o.keysDir = cl.value(QStringLiteral("keys-dir"));
    o.keysRescanMs = cl.milliseconds(QStringLiteral("keys-rescan"), 0, 86400000);
    o.fetch.timeoutMs = cl.milliseconds(QStringLiteral("key-fetch-timeout"), 100, 600000);
    o.fetch.maxInFlight = int(cl.number(QStringLiteral("key-fetch-max-in-flight"), 1, 10000));
    o.fetch.maxPerSecond = double(cl.number(QStringLiteral("key-fetch-per-second"), 1, 100000));
    o.fetch.keyTtlMs = cl.seconds(QStringLiteral("key-cache-ttl"), 1, 86400 * 7);
    o.fetch.negativeTtlMs = cl.seconds(QStringLiteral("key-negative-ttl"), 0, 86400);
    o.fetch.refetchAfterFailedVerifyMs = cl.seconds(QStringLiteral("key-refetch-interval"), 1, 86400);
    o.httpPort = quint16(cl.number(QStringLiteral("http-port"), 0, 65535));
    o.httpBind = cl.value(QStringLiteral("http-bind"));
    o.server.peerTimeoutMs = cl.milliseconds(QStringLiteral("peer-timeout"), 100, 3600000);
    o.server.maxDomains = int(cl.number(QStringLiteral("max-domains"), 1, 100000000));
    o.server.rateLimit.packetsPerSecond = double(cl.number(QStringLiteral("rate-limit"), 0, 100000000));
    o.server.rateLimit.burst = double(cl.number(QStringLiteral("rate-burst"), 1, 100000000));
    o.server.rateLimit.maxSources = int(cl.number(QStringLiteral("rate-limit-sources"), 1, 100000000));
    o.server.rateLimit.relayPacketsPerSecond = double(cl.number(QStringLiteral("relay-rate-limit"), 1, 100000000));
    o.server.rateLimit.relayBurst = 2 * o.server.rateLimit.relayPacketsPerSecond;
    o.server.rateLimit.trustedRelays.clear();
    const QStringList relays = cl.values(QStringLiteral("trusted-relay"));
    for (int i = 0; i < relays.size(); ++i) {
        QHostAddress address;
        if (!address.setAddress(relays.at(i))) {
            cl.reject(QStringLiteral("trusted-relay"),
                      QStringLiteral("--trusted-relay wants an IP address, not '%1'").arg(relays.at(i)), i);
        }
        o.server.rateLimit.trustedRelays.append(address);
    }
    o.receiveBufferBytes = int(cl.number(QStringLiteral("receive-buffer"), 0, 1 << 30));
    bool knownTransport = false;
    o.transport = parseTransportKind(cl.value(QStringLiteral("transport")), &knownTransport);
    if (!knownTransport) {
        cl.fail(QStringLiteral("--transport wants auto, qt or native, not '%1'")
                    .arg(cl.value(QStringLiteral("transport"))));
    }
    o.threads = int(cl.number(QStringLiteral("threads"), 0, MaxThreads));
    if (o.threads > 1 && !SocketTransport::reusePortAvailable()) {
        cl.fail(QStringLiteral("--threads %1 needs SO_REUSEPORT load balancing, which this platform lacks; use 1")
                    .arg(o.threads));
    }
    o.verbose = cl.flag(QStringLiteral("verbose"));
    o.logRules = cl.value(QStringLiteral("log-rules"));

    if (cl.isSet(QStringLiteral("metaverse-url"))) {
        o.fetch.metaverseUrl = cl.httpUrl(QStringLiteral("metaverse-url"),
                                          QStringLiteral("--metaverse-url wants an http(s) URL, not '%1'"));
    } else if (const QString fromEnvironment = qEnvironmentVariable("HIFI_METAVERSE_URL"); !fromEnvironment.isEmpty()) {
        o.fetch.metaverseUrl = QUrl(fromEnvironment, QUrl::StrictMode);
        if (!o.fetch.metaverseUrl.isValid() || !o.fetch.metaverseUrl.scheme().startsWith(QLatin1String("http"))) {
            cl.fail(QStringLiteral("HIFI_METAVERSE_URL wants an http(s) URL, not '%1'").arg(fromEnvironment));
        }
    }

    o.cluster = RedisUrl();
    if (cl.isSet(QStringLiteral("cluster"))) {
        // The message never quotes the URL: it may hold a password.
        o.cluster = RedisUrl::parse(cl.value(QStringLiteral("cluster")));
        if (!o.cluster.isValid()) {
            cl.reject(QStringLiteral("cluster"), QStringLiteral("--cluster: %1").arg(o.cluster.errorString()));
        }
    }
    o.nodeId = cl.value(QStringLiteral("node-id"));
    static const QRegularExpression nodeIdPattern(QStringLiteral("^[A-Za-z0-9._:-]{1,200}$"));
    if (cl.isSet(QStringLiteral("node-id")) && !nodeIdPattern.match(o.nodeId).hasMatch()) {
        cl.reject(QStringLiteral("node-id"),
                  QStringLiteral("--node-id wants 1 to 200 letters, digits or .:_-, not '%1'").arg(o.nodeId));
    } else if (cl.isSet(QStringLiteral("node-id")) && !cl.isSet(QStringLiteral("cluster"))) {
        cl.reject(QStringLiteral("node-id"), QStringLiteral("--node-id needs --cluster"));
    }
    // The cluster link is called from the server's thread and is not shared between threads yet.
    if (o.clusterEnabled() && o.threads > 1) {
        cl.reject(QStringLiteral("threads"),
                  QStringLiteral("--cluster serves UDP on one thread for now: leave out --threads or set it to 1"));
    }

    o.bind.clear();
    const QStringList bind = cl.values(QStringLiteral("bind"));
    for (int i = 0; i < bind.size(); ++i) {
        QHostAddress address;
        if (!address.setAddress(bind.at(i))) {
            cl.reject(QStringLiteral("bind"), QStringLiteral("--bind wants an IP address, not '%1'").arg(bind.at(i)),
                      i);
        }
        o.bind.append(address);
    }
    return !cl.hasError();
}

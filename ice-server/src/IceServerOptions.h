// Everything the ice-server's command line and config file decide, in one value. declare() lists
// the options (and with them --help and the config file's keys); read() turns what was given into
// settings with the messages operators know. Tests drive both without starting a daemon.
#pragma once

#include "IceServerSettings.h"
#include "cluster/RedisUrl.h"

#include <SocketTransport.h>

#include <QtCore/QList>
#include <QtNetwork/QHostAddress>

class CommandLine;

struct IceServerOptions {
    static constexpr quint16 DefaultPort = 7337; // ICE_SERVER_DEFAULT_PORT (docs/protocol.md section 1)
    static constexpr quint16 DefaultHttpPort = 7338;

    IceServerSettings server;
    KeyFetchSettings fetch;
    QList<QHostAddress> bind; // empty: every IPv4 address, plus every IPv6 one when the host has IPv6
    quint16 port = DefaultPort;
    QString keysDir = defaultKeysDir();
    int keysRescanMs = 30000;           // 0: rescan only when the directory reports a change
    quint16 httpPort = DefaultHttpPort; // 0: no HTTP endpoint
    QString httpBind = QStringLiteral("127.0.0.1");
    int receiveBufferBytes = 4194304; // 0: leave the kernel's default
    TransportKind transport = TransportKind::Auto;
    int threads = 0; // 0: defaultThreads(); 1: one socket per address on the main thread, as before
    bool verbose = false;
    QString logRules; // extra Qt logging rules, ';' or newline separated
    // Cluster mode (docs/cluster.md): invalid (the default) = a single node, nothing of it is built.
    RedisUrl cluster;
    QString nodeId; // empty: defaultNodeId() of the bound port

    bool clusterEnabled() const { return cluster.isValid(); }
    // "hostname:port": unique per node as long as each host runs one ice-server per port.
    static QString defaultNodeId(quint16 boundPort);

    // The Qt logging filter rules --verbose and --log-rules ask for.
    QString loggingRules() const;

    // Most workers that help: one per core (each works one SO_REUSEPORT socket), at most MaxThreads,
    // and 1 where the platform cannot balance a port over several sockets.
    static constexpr int MaxThreads = 64;
    static int defaultThreads();
    // threads, or defaultThreads() when it is 0; always 1 in cluster mode (its link is not shared
    // between threads yet).
    int effectiveThreads() const { return clusterEnabled() ? 1 : threads > 0 ? threads : defaultThreads(); }

    // $STATE_DIRECTORY/keys under systemd (StateDirectory=), else the user's data directory.
    static QString defaultKeysDir();
    static void declare(CommandLine *commandLine, const QString &defaultConfigPath);
    // False when a value is bad; commandLine->errorString() says which and why.
    static bool read(CommandLine *commandLine, IceServerOptions *options);
};

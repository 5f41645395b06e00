// The ice-server on several threads: one event loop (QThread) per worker, each with its own socket
// transport and IceServer, every worker's sockets bound to the same addresses and port with
// SO_REUSEPORT, and one domain table and rate limiter shared by all (IceServerShared). The kernel
// hands each sender to one socket; a query finds its domain whichever thread took the heartbeat,
// and the answer to the domain leaves from the querier's thread's socket, which has the same
// address and port as the one the domain's NAT saw. Lives on the key store's (main) thread.
#pragma once

#include "IceServer.h"

#include <SocketTransport.h>

#include <QtCore/QObject>
#include <QtCore/QThread>

#include <functional>
#include <memory>
#include <vector>

class IceServerThreads : public QObject {
    Q_OBJECT
public:
    // Makes and binds one worker's transport (with SO_REUSEPORT when there are several workers)
    // on the worker's thread, on port. Returns nullptr with *error set when it cannot.
    using TransportFactory = std::function<std::unique_ptr<SocketTransport>(quint16 port, QString *error)>;

    // keys must outlive this object and stay on the calling thread; clock and crypto as IceServer's.
    IceServerThreads(DomainKeyStore *keys, const IceServerSettings &settings, IceServer::Clock clock = {},
                     CryptoBackend *crypto = nullptr, QObject *parent = nullptr);
    ~IceServerThreads() override;

    // Starts threads workers (at least 1) on port (0: the first worker picks one, the others join
    // it); false with errorString() when a transport did not bind, and then no worker runs.
    bool start(int threads, quint16 port, const TransportFactory &makeTransport);
    // Stops and joins every worker, closing its sockets; safe to call twice.
    void stop();

    int threadCount() const { return int(_workers.size()); }
    QString errorString() const { return _errorString; }
    // The first worker's sockets (every worker's are on the same addresses and port).
    QList<IpEndpoint> boundSockets() const;
    const PeerTable &peers() const { return *_shared.peers; }
    // Every worker's counters added up, plus the shared table, limiter and keys. Waits for each
    // worker to finish the batch it is in.
    IceServerStats stats() const;
    // What one worker counted (its share of the traffic).
    IceServerStats trafficStats(int index) const;

    // The one worker's server, for tests that watch signals (they are emitted on its thread).
    IceServer *server(int index) const { return _workers.at(size_t(index))->server.get(); }

private:
    struct Worker {
        QThread thread;
        QObject *context = nullptr; // lives on thread (what blocking calls run on), deleted as it finishes
        std::unique_ptr<SocketTransport> transport;
        std::unique_ptr<IceServer> server;
    };
    // Runs call on the worker's thread and waits for it.
    template <typename Call> static void runOn(const Worker &worker, Call call);

    DomainKeyStore *_keys;
    IceServerSettings _settings;
    IceServer::Clock _clock;
    CryptoBackend *_crypto;
    IceServerShared _shared;
    std::vector<std::unique_ptr<Worker>> _workers;
    QString _errorString;
};

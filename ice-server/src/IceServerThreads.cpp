#include "IceServerThreads.h"

template <typename Call> void IceServerThreads::runOn(const Worker &worker, Call call) {
    QMetaObject::invokeMethod(worker.context, call, Qt::BlockingQueuedConnection);
}

IceServerThreads::IceServerThreads(DomainKeyStore *keys, const IceServerSettings &settings, IceServer::Clock clock,
                                   CryptoBackend *crypto, QObject *parent)
    : QObject(parent), _keys(keys), _settings(settings), _clock(std::move(clock)), _crypto(crypto) {}

IceServerThreads::~IceServerThreads() {
    stop();
}

bool IceServerThreads::start(int threads, quint16 port, const TransportFactory &makeTransport) {
    stop();
    _errorString.clear();
    threads = qMax(1, threads);
    _shared = IceServerShared::create(_settings, threads);
    for (int i = 0; i < threads; ++i) {
        auto worker = std::make_unique<Worker>();
        worker->thread.setObjectName(QStringLiteral("ice-worker-%1").arg(i));
        worker->context = new QObject;
        worker->context->moveToThread(&worker->thread);
        connect(&worker->thread, &QThread::finished, worker->context, &QObject::deleteLater);
        worker->thread.start();
        Worker &w = *worker;
        _workers.push_back(std::move(worker));

        IceServerSettings settings = _settings;
        if (i > 0) {
            settings.sweepIntervalMs = 0; // one sweep over the shared table is enough
        }
        QString error;
        runOn(w, [&] {
            // Created here so every timer and socket notifier belongs to this thread.
            w.transport = makeTransport(port, &error);
            if (!w.transport) {
                return;
            }
            w.server = std::make_unique<IceServer>(w.transport.get(), _keys, settings, _shared, _clock, _crypto);
            w.server->start();
        });
        if (!w.transport) {
            _errorString = error;
            stop();
            return false;
        }
        port = w.transport->localPort(); // the others join the first one's port (port 0 picked it)
    }
    return true;
}

void IceServerThreads::stop() {
    // The server first (it uses the transport), both on their own thread, then the thread.
    for (auto &worker : _workers) {
        runOn(*worker, [&w = *worker] {
            w.server.reset();
            w.transport.reset();
        });
        worker->thread.quit();
        worker->thread.wait(); // the context is deleted as the thread finishes
    }
    _workers.clear();
}

QList<IpEndpoint> IceServerThreads::boundSockets() const {
    QList<IpEndpoint> sockets;
    if (!_workers.empty()) {
        runOn(*_workers.front(), [&] { sockets = _workers.front()->transport->boundSockets(); });
    }
    return sockets;
}

IceServerStats IceServerThreads::trafficStats(int index) const {
    const Worker &worker = *_workers.at(size_t(index));
    IceServerStats traffic;
    runOn(worker, [&] { traffic = worker.server->trafficStats(); });
    return traffic;
}

IceServerStats IceServerThreads::stats() const {
    IceServerStats sum;
    for (const auto &worker : _workers) {
        IceServerStats traffic;
        runOn(*worker, [&w = *worker, &traffic] { traffic = w.server->trafficStats(); });
        sum.addTraffic(traffic);
    }
    if (!_workers.empty()) {
        _workers.front()->server->addSharedStats(&sum);
    }
    return sum;
}

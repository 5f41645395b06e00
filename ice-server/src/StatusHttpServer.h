// The operator's HTTP endpoint, served by civetweb on its own threads:
//   GET /status   JSON, HTTP 200 when healthy, 503 when degraded (HealthMonitor)
//   GET /metrics  Prometheus text format (IceServerMetrics)
// The handlers only read thread-safe snapshots, so the UDP path never waits for HTTP.
#pragma once

#include "HealthMonitor.h"

#include <QtCore/QString>

#include <functional>
#include <memory>
#include <string>

class CivetServer;

class StatusHttpServer {
public:
    using StatusProvider = std::function<HealthMonitor::Report()>;
    using MetricsProvider = std::function<std::string()>;

    StatusHttpServer(StatusProvider status, MetricsProvider metrics);
    ~StatusHttpServer();

    // Listens on address:port (TCP). False with a reason when it cannot.
    bool start(const QString &address, quint16 port, QString *errorString = nullptr);
    void stop();
    bool isRunning() const { return bool(_server); }

private:
    class Handler;
    StatusProvider _status;
    MetricsProvider _metrics;
    std::unique_ptr<Handler> _statusHandler;
    std::unique_ptr<Handler> _metricsHandler;
    std::unique_ptr<CivetServer> _server;
};

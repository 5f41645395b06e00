#include "StatusHttpServer.h"

#include <CivetServer.h>

#include <QtNetwork/QHostAddress>

class StatusHttpServer::Handler : public CivetHandler {
public:
    using Produce = std::function<void(int &status, std::string &contentType, std::string &body)>;
    explicit Handler(Produce produce) : _produce(std::move(produce)) {}

    bool handleGet(CivetServer *, struct mg_connection *conn) override {
        int status = 200;
        std::string contentType;
        std::string body;
        _produce(status, contentType, body);
        mg_printf(conn,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
                  "Connection: close\r\n\r\n",
                  status, status == 200 ? "OK" : "Service Unavailable", contentType.c_str(), body.size());
        mg_write(conn, body.data(), body.size());
        return true;
    }

private:
    Produce _produce;
};

StatusHttpServer::StatusHttpServer(StatusProvider status, MetricsProvider metrics)
    : _status(std::move(status)), _metrics(std::move(metrics)) {
    _statusHandler.reset(new Handler([this](int &code, std::string &type, std::string &body) {
        const HealthMonitor::Report report = _status();
        code = report.healthy ? 200 : 503;
        type = "application/json";
        body.assign(report.json.constData(), size_t(report.json.size()));
        body.push_back('\n');
    }));
    _metricsHandler.reset(new Handler([this](int &code, std::string &type, std::string &body) {
        code = 200;
        type = "text/plain; version=0.0.4; charset=utf-8";
        body = _metrics();
    }));
}

StatusHttpServer::~StatusHttpServer() {
    stop();
}

bool StatusHttpServer::start(const QString &address, quint16 port, QString *errorString) {
    stop();
    const QHostAddress host(address);
    const QString listen = host.protocol() == QAbstractSocket::IPv6Protocol
                               ? QStringLiteral("[%1]:%2").arg(host.toString()).arg(port)
                               : QStringLiteral("%1:%2").arg(address).arg(port);
    const std::vector<std::string> options {
        "listening_ports",    listen.toStdString(),
        "num_threads",        "2",
        "request_timeout_ms", "5000",
        "enable_keep_alive",  "no",
    };
    try {
        _server.reset(new CivetServer(options));
    } catch (const CivetException &error) {
        if (errorString) {
            *errorString = QStringLiteral("cannot serve HTTP on %1: %2").arg(listen, QString::fromUtf8(error.what()));
        }
        return false;
    }
    _server->addHandler("/status", _statusHandler.get());
    _server->addHandler("/metrics", _metricsHandler.get());
    return true;
}

void StatusHttpServer::stop() {
    if (_server) {
        _server->close();
        _server.reset();
    }
}

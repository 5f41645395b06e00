// /status and /metrics over real HTTP: healthy vs degraded from the last minute of traffic, and
// the Prometheus text naming what an operator graphs.
#include <HealthMonitor.h>
#include <IceServerMetrics.h>
#include <StatusHttpServer.h>

#include <MetaverseKeyFetcher.h>
#include <PacketHeaders.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QTcpServer>
#include <QtTest/QtTest>

namespace {
quint16 freePort() {
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

struct Reply {
    int status = 0;
    QByteArray body;
    QByteArray contentType;
};

Reply get(quint16 port, const QString &path) {
    QNetworkAccessManager network;
    QNetworkReply *reply = network.get(
        QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path))));
    QSignalSpy done(reply, &QNetworkReply::finished);
    done.wait(5000);
    Reply r { reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll(),
              reply->header(QNetworkRequest::ContentTypeHeader).toByteArray() };
    delete reply;
    return r;
}
} // namespace

class tst_Observability : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void statusAndMetrics() {
        HealthMonitor health;
        health.setListening({ QStringLiteral("127.0.0.1:7337") });
        IceServerMetrics metrics;
        StatusHttpServer http([&health] { return health.report(); }, [&metrics] { return metrics.text(); });
        const quint16 port = freePort();
        QString error;
        QVERIFY2(http.start(QStringLiteral("127.0.0.1"), port, &error), qPrintable(error));

        IceServerStats stats;
        stats.datagramsIn = 1000;
        stats.packetsInByType[quint8(PacketType::ICEServerHeartbeat)] = 990;
        stats.packetsOutByType[quint8(PacketType::ICEServerHeartbeatACK)] = 985;
        stats.heartbeatsAcked = 985;
        stats.verifyCacheHits = 900;
        stats.registeredDomains = 3;
        stats.drops[IceServerStats::RateLimited] = 10;
        health.update(stats, 0);
        metrics.update(stats, health.report().healthy);

        Reply status = get(port, QStringLiteral("/status"));
        QCOMPARE(status.status, 200);
        QVERIFY(status.contentType.startsWith("application/json"));
        QJsonObject json = QJsonDocument::fromJson(status.body).object();
        QCOMPARE(json.value("status").toString(), QStringLiteral("healthy"));
        QCOMPARE(json.value("registered_domains").toInt(), 3);
        QCOMPARE(json.value("listening").toArray().at(0).toString(), QStringLiteral("127.0.0.1:7337"));

        const Reply text = get(port, QStringLiteral("/metrics"));
        QCOMPARE(text.status, 200);
        QVERIFY(text.contentType.startsWith("text/plain"));
        for (const char *line :
             { "ice_server_registered_domains 3", "ice_server_datagrams_received_total 1000",
               "ice_server_packets_received_total{type=\"ICEServerHeartbeat\"} 990",
               "ice_server_packets_sent_total{type=\"ICEServerHeartbeatACK\"} 985",
               "ice_server_packets_dropped_total{reason=\"rate_limited\"} 10",
               "ice_server_heartbeats_total{result=\"acked\"} 985", "ice_server_verify_cache_hits_total 900",
               "ice_server_key_fetches_total{outcome=\"timeout\"} 0", "ice_server_rate_limited_sources_total 0",
               "ice_server_healthy 1", "# TYPE ice_server_packets_dropped_total counter" }) {
            QVERIFY2(text.body.contains(line), line);
        }

        // Thirty seconds later, half of what arrived was dropped and key fetches fail: degraded.
        stats.datagramsIn += 1000;
        stats.drops[IceServerStats::Malformed] += 300;
        stats.drops[IceServerStats::RateLimited] += 300;
        stats.keyFetchOutcomes[size_t(MetaverseKeyFetcher::Outcome::Timeout)] = 8;
        stats.keyFetchOutcomes[size_t(MetaverseKeyFetcher::Outcome::Ok)] = 2;
        health.update(stats, 30000);
        metrics.update(stats, health.report().healthy);
        status = get(port, QStringLiteral("/status"));
        QCOMPARE(status.status, 503);
        json = QJsonDocument::fromJson(status.body).object();
        QCOMPARE(json.value("status").toString(), QStringLiteral("degraded"));
        QCOMPARE(json.value("reasons").toArray().size(), 2);
        QVERIFY(get(port, QStringLiteral("/metrics")).body.contains("ice_server_healthy 0"));

        // A quiet minute later the bad traffic has left the window.
        health.update(stats, 95000);
        QCOMPARE(get(port, QStringLiteral("/status")).status, 200);
    }

    void portInUseIsAnError() {
        QTcpServer squatter;
        QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
        StatusHttpServer http([] { return HealthMonitor::Report(); }, [] { return std::string(); });
        QString error;
        QVERIFY(!http.start(QStringLiteral("127.0.0.1"), squatter.serverPort(), &error));
        QVERIFY(error.contains(QString::number(squatter.serverPort())));
    }
};

QTEST_GUILESS_MAIN(tst_Observability)
#include "tst_observability.moc"

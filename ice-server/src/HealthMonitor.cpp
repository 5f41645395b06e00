#include "HealthMonitor.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

HealthMonitor::HealthMonitor(const Thresholds &thresholds) : _thresholds(thresholds) {
    _report.json = QByteArrayLiteral("{\"status\":\"starting\"}");
}

void HealthMonitor::update(const IceServerStats &stats, qint64 nowMs, const ClusterLink::Status *cluster) {
    if (_startMs < 0) {
        _startMs = nowMs;
    }
    Sample sample {};
    sample.atMs = nowMs;
    sample.datagrams = stats.datagramsIn;
    sample.badDrops = stats.drops[IceServerStats::RateLimited] + stats.drops[IceServerStats::Malformed]
                      + stats.drops[IceServerStats::UnknownType] + stats.drops[IceServerStats::VersionMismatch];
    sample.fetchFailures = stats.keyFetchFailures();
    sample.fetchesDone = stats.keyFetchOutcomes[0] + sample.fetchFailures;
    for (quint64 n : stats.packetsOutByType) {
        sample.sent += n;
    }
    sample.sent += stats.stunOut;
    sample.sendFailures = stats.drops[IceServerStats::SendFailed];
    _samples.push_back(sample);
    while (_samples.size() > 1 && nowMs - _samples.front().atMs > _thresholds.windowMs) {
        _samples.pop_front();
    }

    // Deltas over the window: the oldest sample kept is the baseline.
    const Sample &first = _samples.front();
    const quint64 datagrams = sample.datagrams - first.datagrams;
    const quint64 badDrops = sample.badDrops - first.badDrops;
    const quint64 fetches = sample.fetchesDone - first.fetchesDone;
    const quint64 fetchFailures = sample.fetchFailures - first.fetchFailures;
    const quint64 sent = sample.sent - first.sent;
    const quint64 sendFailures = sample.sendFailures - first.sendFailures;

    QJsonArray reasons;
    if (datagrams >= _thresholds.minDatagrams && double(badDrops) > _thresholds.maxDropRatio * double(datagrams)) {
        reasons.append(QStringLiteral("dropped %1 of %2 datagrams (rate limit, malformed, wrong version)")
                           .arg(badDrops)
                           .arg(datagrams));
    }
    if (fetches >= _thresholds.minFetches
        && double(fetchFailures) > _thresholds.maxFetchFailureRatio * double(fetches)) {
        reasons.append(QStringLiteral("%1 of %2 key fetches failed").arg(fetchFailures).arg(fetches));
    }
    if (sendFailures > 0 && double(sendFailures) > _thresholds.maxSendFailureRatio * double(sent + sendFailures)) {
        reasons.append(QStringLiteral("%1 replies could not be sent").arg(sendFailures));
    }

    if (cluster && !cluster->healthy) {
        // Local service goes on; what is lost is answering for (and being found from) other nodes.
        reasons.append(QStringLiteral("cluster: Redis %1 unavailable (%2); serving local domains only")
                           .arg(cluster->redis, cluster->reason));
    }

    QJsonObject window {
        { QStringLiteral("seconds"), double(nowMs - first.atMs) / 1000.0 },
        { QStringLiteral("datagrams"), double(datagrams) },
        { QStringLiteral("dropped"), double(badDrops) },
        { QStringLiteral("key_fetches"), double(fetches) },
        { QStringLiteral("key_fetch_failures"), double(fetchFailures) },
        { QStringLiteral("sent"), double(sent) },
        { QStringLiteral("send_failures"), double(sendFailures) },
    };
    QJsonObject root {
        { QStringLiteral("status"), reasons.isEmpty() ? QStringLiteral("healthy") : QStringLiteral("degraded") },
        { QStringLiteral("reasons"), reasons },
        { QStringLiteral("uptime_seconds"), double((nowMs - _startMs) / 1000) },
        { QStringLiteral("registered_domains"), stats.registeredDomains },
        { QStringLiteral("directory_keys"), stats.directoryKeys },
        { QStringLiteral("cached_keys"), stats.cachedKeys },
        { QStringLiteral("listening"), QJsonArray::fromStringList(_listening) },
        { QStringLiteral("last_minute"), window },
    };
    if (cluster) {
        root.insert(QStringLiteral("cluster"),
                    QJsonObject { { QStringLiteral("node_id"), cluster->nodeId },
                                  { QStringLiteral("redis"), cluster->redis },
                                  { QStringLiteral("state"), cluster->state },
                                  { QStringLiteral("reason"), cluster->reason },
                                  { QStringLiteral("owned_domains"), cluster->ownedDomains } });
    }
    Report report { reasons.isEmpty(), QJsonDocument(root).toJson(QJsonDocument::Compact) };
    QMutexLocker lock(&_mutex);
    _report = report;
}

HealthMonitor::Report HealthMonitor::report() const {
    QMutexLocker lock(&_mutex);
    return _report;
}

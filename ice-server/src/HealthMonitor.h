// Judges healthy or degraded from the last minute of traffic, as High Fidelity's monitor did:
// too many datagrams dropped (rate limits, malformed, wrong versions), key fetches failing, or
// replies that cannot be sent. update() runs on the main thread once a second with a stats
// snapshot; report() may be called from any thread (the HTTP server's).
#pragma once

#include "IceServerStats.h"
#include "cluster/ClusterLink.h"

#include <QtCore/QByteArray>
#include <QtCore/QMutex>
#include <QtCore/QStringList>

#include <deque>

class HealthMonitor {
public:
    struct Thresholds {
        qint64 windowMs = 60000;
        double maxDropRatio = 0.25; // of datagrams received in the window
        quint64 minDatagrams = 100; // below this, drop ratios say nothing
        double maxFetchFailureRatio = 0.5;
        quint64 minFetches = 5;
        double maxSendFailureRatio = 0.1;
    };
    struct Report {
        bool healthy = true;
        QByteArray json;
    };

    explicit HealthMonitor(const Thresholds &thresholds);
    HealthMonitor() : HealthMonitor(Thresholds()) {}

    void setListening(const QStringList &sockets) { _listening = sockets; }
    // cluster: the cluster's state in cluster mode (degraded while Redis is not usable), else null.
    void update(const IceServerStats &stats, qint64 nowMs, const ClusterLink::Status *cluster = nullptr);
    Report report() const;

private:
    struct Sample {
        qint64 atMs;
        quint64 datagrams, badDrops, fetchesDone, fetchFailures, sent, sendFailures;
    };

    Thresholds _thresholds;
    QStringList _listening;
    qint64 _startMs = -1;
    std::deque<Sample> _samples;
    mutable QMutex _mutex;
    Report _report;
};

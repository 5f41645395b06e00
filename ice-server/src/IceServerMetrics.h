// The ice-server's Prometheus metrics: a prometheus-cpp Registry mirrored from IceServerStats
// snapshots once a second (the hot path only bumps plain counters). text() is the exposition
// format for /metrics and may be called from any thread; the Registry is thread-safe.
#pragma once

#include "IceServerStats.h"
#include "cluster/ClusterLink.h"

#include <memory>
#include <string>

class IceServerMetrics {
public:
    IceServerMetrics();
    ~IceServerMetrics();

    void update(const IceServerStats &stats, bool healthy);
    // Cluster mode only: its families appear with the first call, so a single node's /metrics
    // is exactly what it was.
    void updateCluster(const ClusterLink::Status &cluster);
    std::string text() const;

private:
    struct Families;
    struct ClusterFamilies;
    std::unique_ptr<Families> d;
    std::unique_ptr<ClusterFamilies> _cluster;
    IceServerStats _previous;
    ClusterLink::Status _previousCluster;
};

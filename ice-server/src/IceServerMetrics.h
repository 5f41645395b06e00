// The ice-server's Prometheus metrics: a prometheus-cpp Registry mirrored from IceServerStats
// snapshots once a second (the hot path only bumps plain counters). text() is the exposition
// format for /metrics and may be called from any thread; the Registry is thread-safe.
#pragma once

#include "IceServerStats.h"

#include <memory>
#include <string>

class IceServerMetrics {
public:
    IceServerMetrics();
    ~IceServerMetrics();

    void update(const IceServerStats &stats, bool healthy);
    std::string text() const;

private:
    struct Families;
    std::unique_ptr<Families> d;
    IceServerStats _previous;
};

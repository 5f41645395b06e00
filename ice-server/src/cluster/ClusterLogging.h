// Logging category of the ice-server's cluster mode (Redis connection state, takeovers, forwards).
// Connection trouble is logged once per state change, not per command, so an outage cannot flood.
#pragma once

#include <QtCore/QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(ice_cluster)

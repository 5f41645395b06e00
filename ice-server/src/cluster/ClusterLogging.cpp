#include "ClusterLogging.h"

Q_LOGGING_CATEGORY(ice_cluster, "hifi.ice-server.cluster")

#include "IceServerLogging.h"

Q_LOGGING_CATEGORY(ice_server, "hifi.ice-server")
Q_LOGGING_CATEGORY(ice_server_packets, "hifi.ice-server.packets", QtWarningMsg)

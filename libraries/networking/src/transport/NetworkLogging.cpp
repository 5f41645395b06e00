#include "NetworkLogging.h"

Q_LOGGING_CATEGORY(networking, "hifi.networking")
Q_LOGGING_CATEGORY(networking_packets, "hifi.networking.packets", QtWarningMsg)
Q_LOGGING_CATEGORY(networking_ice, "hifi.networking.ice")

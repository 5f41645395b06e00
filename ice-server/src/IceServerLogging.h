// Logging categories of the ice-server. hifi.ice-server says what an operator needs (where it
// listens, keys loaded, fetch failures); hifi.ice-server.packets traces every packet and is off
// unless enabled (-v or QT_LOGGING_RULES).
#pragma once

#include <QtCore/QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(ice_server)
Q_DECLARE_LOGGING_CATEGORY(ice_server_packets)

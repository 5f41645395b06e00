// Logging categories of the domain server, in the hifi.* family Overte operators filter on.
// hifi.domain-server.ice.packets is the verbose per-packet trace; it is off unless enabled by rules.
#pragma once

#include <QtCore/QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(domain_server)
Q_DECLARE_LOGGING_CATEGORY(domain_server_ice)
Q_DECLARE_LOGGING_CATEGORY(domain_server_ice_packets)

#include "DomainServerLogging.h"

Q_LOGGING_CATEGORY(domain_server, "hifi.domain-server")
Q_LOGGING_CATEGORY(domain_server_ice, "hifi.domain-server.ice")
Q_LOGGING_CATEGORY(domain_server_ice_packets, "hifi.domain-server.ice.packets", QtWarningMsg)

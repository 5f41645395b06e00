// Logging categories of the networking library, in the hifi.* family Overte operators know.
// hifi.networking.packets is the verbose per-packet trace; it is off unless enabled by rules.
#pragma once

#include <QtCore/QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(networking)
Q_DECLARE_LOGGING_CATEGORY(networking_packets)
Q_DECLARE_LOGGING_CATEGORY(networking_ice)

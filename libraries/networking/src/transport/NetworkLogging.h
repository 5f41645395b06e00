// Logging categories of the networking library, in the hifi.* family Overte operators know.
// hifi.networking.packets is the verbose per-packet trace; it is off unless enabled by rules.
#pragma once

#include <QtCore/QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(networking)
Q_DECLARE_LOGGING_CATEGORY(networking_packets)
Q_DECLARE_LOGGING_CATEGORY(networking_ice)
Q_DECLARE_LOGGING_CATEGORY(networking_turn)

// The log line format of Icebreaker's daemons: time, level and category before each message, so an
// operator can grep by category and correlate with packet captures. QT_MESSAGE_PATTERN overrides it.
void installDaemonMessagePattern();

// "HOST[:PORT]" as operators type it for ice-servers and STUN servers: a DNS name, an IPv4 literal,
// or an IPv6 literal (bare or in brackets), with an optional port. Parsing only; no DNS.
#pragma once

#include <QtCore/QString>

struct HostAndPort {
    QString host;
    quint16 port = 0;

    bool isValid() const { return !host.isEmpty() && port != 0; }
    QString toString() const;

    // Fails (returns an invalid value, and the reason in errorString) for an empty host, a port
    // outside 1..65535 or stray text.
    static HostAndPort parse(const QString &text, quint16 defaultPort, QString *errorString = nullptr);
};

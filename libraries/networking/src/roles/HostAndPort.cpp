#include "HostAndPort.h"

#include <QtNetwork/QHostAddress>

namespace {
bool parsePort(const QString &text, quint16 *port) {
    bool ok = false;
    const uint value = text.toUInt(&ok);
    if (!ok || value == 0 || value > 65535) {
        return false;
    }
    *port = quint16(value);
    return true;
}

bool plausibleHost(const QString &host) {
    if (host.isEmpty()) {
        return false;
    }
    for (const QChar c : host) {
        if (!(c.isLetterOrNumber() || c == QLatin1Char('.') || c == QLatin1Char('-') || c == QLatin1Char('_')
              || c == QLatin1Char(':') || c == QLatin1Char('%'))) {
            return false;
        }
    }
    return true;
}
} // namespace

QString HostAndPort::toString() const {
    const bool v6 = host.contains(QLatin1Char(':'));
    return (v6 ? QLatin1Char('[') + host + QLatin1Char(']') : host) + QLatin1Char(':') + QString::number(port);
}

HostAndPort HostAndPort::parse(const QString &text, quint16 defaultPort) {
    const QString trimmed = text.trimmed();
    HostAndPort result;
    result.port = defaultPort;
    QString host;
    if (trimmed.startsWith(QLatin1Char('['))) {
        const int close = trimmed.indexOf(QLatin1Char(']'));
        if (close < 0) {
            return {};
        }
        host = trimmed.mid(1, close - 1);
        const QString rest = trimmed.mid(close + 1);
        if (!rest.isEmpty() && !(rest.startsWith(QLatin1Char(':')) && parsePort(rest.mid(1), &result.port))) {
            return {};
        }
        if (QHostAddress(host).protocol() != QAbstractSocket::IPv6Protocol) {
            return {};
        }
    } else if (trimmed.count(QLatin1Char(':')) == 1) {
        const int colon = trimmed.indexOf(QLatin1Char(':'));
        host = trimmed.left(colon);
        if (!parsePort(trimmed.mid(colon + 1), &result.port)) {
            return {};
        }
    } else {
        // A bare name, an IPv4 literal or a bare IPv6 literal (several colons, no port).
        host = trimmed;
        if (host.contains(QLatin1Char(':')) && QHostAddress(host).isNull()) {
            return {};
        }
    }
    if (!plausibleHost(host)) {
        return {};
    }
    result.host = host;
    return result;
}

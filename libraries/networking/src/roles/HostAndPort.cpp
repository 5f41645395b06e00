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

HostAndPort HostAndPort::parse(const QString &text, quint16 defaultPort, QString *errorString) {
    auto fail = [errorString, &text](const char *why) {
        if (errorString) {
            *errorString = QStringLiteral("bad address \"%1\": %2").arg(text, QLatin1String(why));
        }
        return HostAndPort();
    };
    const QString trimmed = text.trimmed();
    HostAndPort result;
    result.port = defaultPort;
    QString host;
    if (trimmed.startsWith(QLatin1Char('['))) {
        const int close = trimmed.indexOf(QLatin1Char(']'));
        if (close < 0) {
            return fail("missing ']'");
        }
        host = trimmed.mid(1, close - 1);
        const QString rest = trimmed.mid(close + 1);
        if (!rest.isEmpty() && !rest.startsWith(QLatin1Char(':'))) {
            return fail("expected ':' after ']'");
        }
        if (!rest.isEmpty() && !parsePort(rest.mid(1), &result.port)) {
            return fail("port must be 1-65535");
        }
        if (QHostAddress(host).protocol() != QAbstractSocket::IPv6Protocol) {
            return fail("brackets hold an IPv6 address");
        }
    } else if (trimmed.count(QLatin1Char(':')) == 1) {
        const int colon = trimmed.indexOf(QLatin1Char(':'));
        host = trimmed.left(colon);
        if (!parsePort(trimmed.mid(colon + 1), &result.port)) {
            return fail("port must be 1-65535");
        }
    } else {
        // A bare name, an IPv4 literal or a bare IPv6 literal (several colons, no port).
        host = trimmed;
        if (host.contains(QLatin1Char(':')) && QHostAddress(host).isNull()) {
            return fail("not an IPv6 address; write [ADDR]:PORT");
        }
    }
    if (host.isEmpty()) {
        return fail("no host");
    }
    if (!plausibleHost(host)) {
        return fail("the host has characters no name or address has");
    }
    result.host = host;
    return result;
}

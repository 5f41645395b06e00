#include "RedisUrl.h"

#include <QtCore/QUrl>
#include <QtNetwork/QHostAddress>

namespace {

const QString kScheme = QStringLiteral("redis://");

bool isHostNameChar(QChar c) {
    return (c >= QLatin1Char('a') && c <= QLatin1Char('z')) || (c >= QLatin1Char('A') && c <= QLatin1Char('Z'))
           || (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || c == QLatin1Char('-') || c == QLatin1Char('.')
           || c == QLatin1Char('_');
}

// Digits only, no sign, no spaces: toInt() alone would take "+5" and " 5".
bool parseDecimal(const QString &text, qint64 max, qint64 &value) {
    if (text.isEmpty() || text.size() > 10) {
        return false;
    }
    for (QChar c : text) {
        if (c < QLatin1Char('0') || c > QLatin1Char('9')) {
            return false;
        }
    }
    value = text.toLongLong();
    return value <= max;
}

} // namespace

RedisUrl RedisUrl::failed(Error error, const QString &why) {
    RedisUrl url;
    url._error = error;
    url._errorString = why;
    return url;
}

RedisUrl RedisUrl::parse(const QString &text) {
    if (text.trimmed().isEmpty()) {
        return failed(Error::Empty, QStringLiteral("no Redis URL"));
    }
    if (text.startsWith(QLatin1String("rediss://"), Qt::CaseInsensitive)) {
        return failed(Error::BadScheme,
                      QStringLiteral("rediss:// (TLS) is not supported: use redis:// on a private network"));
    }
    if (!text.startsWith(kScheme, Qt::CaseInsensitive)) {
        return failed(Error::BadScheme, QStringLiteral("a Redis URL starts with redis://"));
    }
    QString rest = text.mid(kScheme.size());

    RedisUrl url;
    // The last '@' ends the user info, so a password may hold '@' (or percent-encode it).
    const int at = rest.lastIndexOf(QLatin1Char('@'));
    if (at >= 0) {
        const QString userInfo = rest.left(at);
        rest = rest.mid(at + 1);
        const int colon = userInfo.indexOf(QLatin1Char(':'));
        if (colon < 0) {
            return failed(
                Error::BadUserInfo,
                QStringLiteral("user info without ':': write redis://:PASSWORD@HOST or redis://USER:PASSWORD@HOST"));
        }
        url._user = QUrl::fromPercentEncoding(userInfo.left(colon).toUtf8());
        url._password = QUrl::fromPercentEncoding(userInfo.mid(colon + 1).toUtf8());
        if (url._password.isEmpty()) {
            return failed(Error::BadUserInfo, QStringLiteral("empty password after ':'"));
        }
    }
    if (rest.contains(QLatin1Char('?')) || rest.contains(QLatin1Char('#'))) {
        return failed(Error::Unsupported,
                      QStringLiteral("query strings and fragments are not supported in a Redis URL"));
    }

    QString authority = rest;
    QString path;
    const int slash = rest.indexOf(QLatin1Char('/'));
    if (slash >= 0) {
        authority = rest.left(slash);
        path = rest.mid(slash + 1);
    }

    QString portText;
    if (authority.startsWith(QLatin1Char('['))) {
        const int close = authority.indexOf(QLatin1Char(']'));
        if (close < 0) {
            return failed(Error::BadHost, QStringLiteral("IPv6 address without closing ']'"));
        }
        url._host = authority.mid(1, close - 1);
        QHostAddress address;
        if (!address.setAddress(url._host) || address.protocol() != QAbstractSocket::IPv6Protocol) {
            return failed(Error::BadHost, QStringLiteral("'%1' is not an IPv6 address").arg(url._host));
        }
        const QString after = authority.mid(close + 1);
        if (!after.isEmpty()) {
            if (!after.startsWith(QLatin1Char(':'))) {
                return failed(Error::BadHost, QStringLiteral("unexpected '%1' after the IPv6 address").arg(after));
            }
            portText = after.mid(1);
            if (portText.isEmpty()) {
                return failed(Error::BadPort, QStringLiteral("empty port after ':'"));
            }
        }
    } else {
        const int colon = authority.indexOf(QLatin1Char(':'));
        url._host = colon >= 0 ? authority.left(colon) : authority;
        if (colon >= 0) {
            portText = authority.mid(colon + 1);
            if (portText.isEmpty()) {
                return failed(Error::BadPort, QStringLiteral("empty port after ':'"));
            }
        }
        if (url._host.isEmpty()) {
            return failed(Error::BadHost, QStringLiteral("no host in the Redis URL"));
        }
        for (QChar c : url._host) {
            if (!isHostNameChar(c)) {
                return failed(
                    Error::BadHost,
                    QStringLiteral("'%1' is not a host name or address (IPv6 goes in [brackets])").arg(url._host));
            }
        }
    }

    if (!portText.isEmpty()) {
        qint64 port = 0;
        if (!parseDecimal(portText, 65535, port) || port == 0) {
            return failed(Error::BadPort, QStringLiteral("port '%1' is not a number from 1 to 65535").arg(portText));
        }
        url._port = quint16(port);
    }
    if (!path.isEmpty()) {
        qint64 database = 0;
        if (!parseDecimal(path, 0x7fffffff, database)) {
            return failed(Error::BadDatabase,
                          QStringLiteral("database '%1' is not a number (redis://HOST/0 .. /15 by default)").arg(path));
        }
        url._database = int(database);
    }
    url._error = Error::NoError;
    url._errorString.clear();
    return url;
}

QString RedisUrl::redacted() const {
    if (!isValid()) {
        return QStringLiteral("redis://(invalid)");
    }
    QString out = kScheme;
    if (hasPassword()) {
        // The user name is not secret (it is in ACL LIST, in CLIENT LIST), and it helps debugging.
        out += QString::fromUtf8(QUrl::toPercentEncoding(_user)) + QStringLiteral(":***@");
    }
    const bool ipv6 = _host.contains(QLatin1Char(':'));
    out += ipv6 ? QLatin1Char('[') + _host + QLatin1Char(']') : _host;
    out += QStringLiteral(":%1/%2").arg(_port).arg(_database);
    return out;
}

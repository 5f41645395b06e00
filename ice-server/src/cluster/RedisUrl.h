// Where the cluster's Redis is and how to log in: redis://[user:password@]HOST[:PORT][/DB].
// A plain value parsed strictly (a typo is an error that says what is wrong, not a silent default),
// with redacted() for every place the URL is shown: logs, /status, /metrics never see the password.
#pragma once

#include <QtCore/QString>

class RedisUrl {
public:
    enum class Error {
        NoError,
        Empty,
        BadScheme,   // not redis:// (rediss:// is named: TLS is not supported)
        BadUserInfo, // "secret@host" with no ':' (ambiguous), or an empty password
        BadHost,
        BadPort,
        BadDatabase,
        Unsupported, // a query string or fragment
    };

    RedisUrl() = default;
    // Never fails silently: check isValid(), error() and errorString().
    static RedisUrl parse(const QString &text);

    bool isValid() const { return _error == Error::NoError && !_host.isEmpty(); }
    Error error() const { return _error; }
    QString errorString() const { return _errorString; }

    QString host() const { return _host; } // a name, an IPv4 or an IPv6 address (no brackets)
    quint16 port() const { return _port; }
    int database() const { return _database; }
    QString user() const { return _user; }         // empty: AUTH with the password alone
    QString password() const { return _password; } // empty: no AUTH
    bool hasPassword() const { return !_password.isEmpty(); }

    // The URL with the password replaced by "***", port and database spelled out:
    // "redis://icebreaker:***@10.0.0.5:6379/2".
    QString redacted() const;

private:
    static RedisUrl failed(Error error, const QString &why);

    QString _host;
    QString _user;
    QString _password;
    quint16 _port = 6379;
    int _database = 0;
    Error _error = Error::Empty;
    QString _errorString = QStringLiteral("no Redis URL");
};

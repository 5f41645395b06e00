// How a node uses a TURN relay, as its operator configured it: which server, which credentials, and
// when (never, as a fallback once direct punching failed, or always). Shared by the client tools and
// the domain-server, which read it from the same options (libraries/cli RelayOptions).
#pragma once

#include "TurnCredentials.h"

#include <QtCore/QString>

struct RelayConfig {
    static constexpr quint16 DefaultTurnPort = 3478;
    // REST-API credentials made from a secret are asked to be valid this long.
    static constexpr qint64 SecretCredentialLifetimeSec = 24 * 3600;

    enum class Mode { Never, Fallback, Always };

    Mode mode = Mode::Never;
    QString serverHost; // empty: no TURN server
    quint16 serverPort = DefaultTurnPort;
    QString user;
    QString password;  // long-term credentials (coturn --lt-cred-mech) ...
    QByteArray secret; // ... or a secret shared with the server (coturn --use-auth-secret)

    bool hasServer() const { return !serverHost.isEmpty(); }
    // A relay may be used at all.
    bool isEnabled() const { return mode != Mode::Never && hasServer(); }
    // The password, or REST-API credentials from the secret valid for a day from now.
    TurnCredentials credentials() const;

    static QString modeName(Mode mode);
    // "never", "fallback", "always"; false for anything else.
    static bool parseMode(const QString &text, Mode *mode);
};

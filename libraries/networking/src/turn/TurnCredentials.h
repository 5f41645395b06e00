// Long-term TURN credentials (RFC 8489 9.2): a username and password the operator configured, or
// ones made from a secret shared with the TURN server the TURN REST API way (coturn's
// --use-auth-secret), so a deployment hands out short-lived credentials without a user database.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>

struct TurnCredentials {
    QString username;
    QString password;

    bool isEmpty() const { return username.isEmpty(); }

    // username = "<expiry>:<user>" (just "<expiry>" when user is empty), expiry in Unix seconds;
    // password = base64(HMAC-SHA1(secret, username)). The server rejects them after expiry.
    static TurnCredentials fromSharedSecret(const QByteArray &secret, const QString &user, qint64 expiresAtUnixSeconds);
    // The same, valid for validForSeconds from now.
    static TurnCredentials fromSharedSecretFromNow(const QByteArray &secret, const QString &user,
                                                   qint64 validForSeconds);
};

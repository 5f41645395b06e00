#include "TurnCredentials.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDateTime>
#include <QtCore/QMessageAuthenticationCode>

TurnCredentials TurnCredentials::fromSharedSecret(const QByteArray &secret, const QString &user,
                                                  qint64 expiresAtUnixSeconds) {
    TurnCredentials credentials;
    credentials.username = QString::number(expiresAtUnixSeconds);
    if (!user.isEmpty()) {
        credentials.username += QLatin1Char(':') + user;
    }
    const QByteArray mac = QMessageAuthenticationCode::hash(credentials.username.toUtf8(), secret,
                                                            QCryptographicHash::Sha1);
    credentials.password = QString::fromLatin1(mac.toBase64());
    return credentials;
}

TurnCredentials TurnCredentials::fromSharedSecretFromNow(const QByteArray &secret, const QString &user,
                                                         qint64 validForSeconds) {
    return fromSharedSecret(secret, user, QDateTime::currentSecsSinceEpoch() + validForSeconds);
}

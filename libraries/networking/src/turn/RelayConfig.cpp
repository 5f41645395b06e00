#include "RelayConfig.h"

TurnCredentials RelayConfig::credentials() const {
    if (!secret.isEmpty()) {
        return TurnCredentials::fromSharedSecretFromNow(secret, user, SecretCredentialLifetimeSec);
    }
    return TurnCredentials { user, password };
}

QString RelayConfig::modeName(Mode mode) {
    switch (mode) {
    case Mode::Never: return QStringLiteral("never");
    case Mode::Fallback: return QStringLiteral("fallback");
    case Mode::Always: return QStringLiteral("always");
    }
    return QString();
}

bool RelayConfig::parseMode(const QString &text, Mode *mode) {
    for (Mode candidate : { Mode::Never, Mode::Fallback, Mode::Always }) {
        if (text == modeName(candidate)) {
            *mode = candidate;
            return true;
        }
    }
    return false;
}

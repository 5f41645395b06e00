#include "PunchTtlSchedule.h"

#include <QtCore/QStringList>

bool PunchTtlSchedule::parse(const QString &text, PunchTtlSchedule *schedule) {
    QList<int> ttls;
    const QString trimmed = text.trimmed();
    if (!trimmed.isEmpty()) {
        const QStringList parts = trimmed.split(QLatin1Char(','));
        for (const QString &part : parts) {
            bool ok = false;
            const int ttl = part.trimmed().toInt(&ok);
            if (!ok || ttl < 0 || ttl > 255) {
                return false;
            }
            ttls.append(ttl);
        }
    }
    // A lone "0" means no priming at all.
    if (ttls.size() == 1 && ttls.first() == 0) {
        ttls.clear();
    }
    *schedule = PunchTtlSchedule(ttls);
    return true;
}

bool PunchTtlSchedule::isPriming() const {
    for (int ttl : _ttls) {
        if (ttl > 0) {
            return true;
        }
    }
    return false;
}

QString PunchTtlSchedule::toString() const {
    if (!isPriming()) {
        return QStringLiteral("0");
    }
    QStringList parts;
    for (int ttl : _ttls) {
        parts.append(QString::number(ttl));
    }
    return parts.join(QLatin1Char(','));
}

#include "ConfigFile.h"

#include <QtCore/QFile>
#include <QtCore/QRegularExpression>

bool ConfigFile::load(const QString &path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        _path = path;
        _entries.clear();
        _errorString = QStringLiteral("cannot read config file %1: %2").arg(path, file.errorString());
        return false;
    }
    return parse(path, file.readAll());
}

bool ConfigFile::parse(const QString &path, const QByteArray &text) {
    // Keys are spelled like long options; anything else on the left of '=' is a typo worth naming.
    static const QRegularExpression keyPattern(QStringLiteral("^[a-z0-9][a-z0-9-]*$"));
    _path = path;
    _entries.clear();
    _errorString.clear();
    const QStringList lines = QString::fromUtf8(text).split(QLatin1Char('\n'));
    for (int i = 0; i < lines.size(); ++i) {
        const QString line = lines.at(i).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#'))) {
            continue;
        }
        const int equals = line.indexOf(QLatin1Char('='));
        const QString key = line.left(equals).trimmed();
        if (equals < 0 || !keyPattern.match(key).hasMatch()) {
            _errorString = QStringLiteral("%1: expected 'key = value', not '%2'").arg(location(i + 1), line);
            _entries.clear();
            return false;
        }
        _entries.append({ key, line.mid(equals + 1).trimmed(), i + 1 });
    }
    return true;
}

QString ConfigFile::location(int line) const {
    return _path + QLatin1Char(':') + QString::number(line);
}

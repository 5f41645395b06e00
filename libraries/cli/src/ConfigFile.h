// A daemon's config file as text: `key = value` lines, `#` comment lines and blank lines. It only
// splits lines; which keys exist and what their values mean is decided by CommandLine, which reports
// problems as "FILE:LINE: reason" through location().
#pragma once

#include <QtCore/QList>
#include <QtCore/QString>

class ConfigFile {
public:
    struct Entry {
        QString key;
        QString value;
        int line = 0; // 1-based
    };

    // Reads and splits path. False with errorString() when the file cannot be read or a line is
    // not `key = value`.
    bool load(const QString &path);
    // Splits text as if it had been read from path (which only names it in messages).
    bool parse(const QString &path, const QByteArray &text);

    QString path() const { return _path; }
    const QList<Entry> &entries() const { return _entries; }
    QString errorString() const { return _errorString; }

    // "FILE:LINE", the prefix of every message about a line.
    QString location(int line) const;

private:
    QString _path;
    QList<Entry> _entries;
    QString _errorString;
};

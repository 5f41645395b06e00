// Runs one binary's declare() + CommandLine::parse() + read() in process, as its main does, so the
// option suites compare settings and messages without starting a process.
#pragma once

#include <CommandLine.h>

#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>

namespace options_test {

template <typename Options> struct Parsed {
    CommandLine::Outcome outcome = CommandLine::Outcome::UsageError;
    bool ok = false; // parsed and read without error
    QString error;   // CommandLine::errorString()
    Options options;
};

// declare is called with the CommandLine to fill; arguments exclude argv[0].
template <typename Options, typename Declare> Parsed<Options> parse(Declare declare, const QStringList &arguments) {
    CommandLine commandLine;
    declare(&commandLine);
    Parsed<Options> parsed;
    parsed.outcome = commandLine.parse(QStringList { QStringLiteral("binary") } + arguments);
    parsed.ok = parsed.outcome == CommandLine::Outcome::Run && Options::read(&commandLine, &parsed.options);
    parsed.error = commandLine.errorString();
    return parsed;
}

// Writes text to name in dir and returns its path.
inline QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &text) {
    const QString path = dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size()) {
        qFatal("cannot write %s", qPrintable(path));
    }
    return path;
}

} // namespace options_test

// Runs the openssl command-line tool for the crypto tests: an independent implementation to make
// keys and signatures with. A missing binary is a test failure, not a skip: CI installs openssl.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QString>
#include <QStringList>

struct OpenSslCliResult {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    bool ok() const { return exitCode == 0; }
    // For QVERIFY2 messages.
    QByteArray describe() const { return "exit " + QByteArray::number(exitCode) + ": " + err; }
};

inline QString openSslProgram() {
    return QStandardPaths::findExecutable(QStringLiteral("openssl"));
}

inline OpenSslCliResult runOpenSsl(const QStringList &arguments, const QString &workingDirectory = QString()) {
    OpenSslCliResult result;
    QProcess process;
    if (!workingDirectory.isEmpty())
        process.setWorkingDirectory(workingDirectory);
    process.start(openSslProgram(), arguments);
    if (!process.waitForFinished(120000) || process.exitStatus() != QProcess::NormalExit) {
        process.kill();
        process.waitForFinished();
        result.err = "openssl did not finish: " + process.errorString().toUtf8();
        return result;
    }
    result.exitCode = process.exitCode();
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

inline QByteArray readAll(const QString &path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

inline bool writeAll(const QString &path, const QByteArray &content) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(content) == content.size();
}

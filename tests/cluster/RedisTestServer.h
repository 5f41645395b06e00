// A real redis-server for one test: started on a free loopback port with no persistence, stopped
// (or killed, paused, restarted on the same port) on demand. redis-cli is the independent window
// into it: INFO commandstats, MEMORY USAGE, PUBLISH of hostile bytes.
#pragma once

#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpServer>
#include <QtTest/QTest>

#include <signal.h>

namespace redistest {

class RedisTestServer {
public:
    struct Config {
        QString requirePass; // the default user's password
        QString aclUser;     // an extra ACL user (the default user is then disabled)
        QString aclPassword;
    };

    explicit RedisTestServer(const Config &config = {}) : _config(config) {}
    ~RedisTestServer() { stop(); }

    static bool available() { return !QStandardPaths::findExecutable(QStringLiteral("redis-server")).isEmpty(); }

    // Starts on a free port (the first time) or on the same port again (a restart).
    bool start() {
        if (_port == 0) {
            QTcpServer probe;
            if (!probe.listen(QHostAddress::LocalHost, 0)) {
                return false;
            }
            _port = probe.serverPort();
        }
        QStringList args { QStringLiteral("--port"),       QString::number(_port),
                           QStringLiteral("--bind"),       QStringLiteral("127.0.0.1"),
                           QStringLiteral("--save"),       QString(),
                           QStringLiteral("--appendonly"), QStringLiteral("no"),
                           QStringLiteral("--dir"),        _dir.path(),
                           QStringLiteral("--loglevel"),   QStringLiteral("notice") };
        if (!_config.requirePass.isEmpty()) {
            args << QStringLiteral("--requirepass") << _config.requirePass;
        }
        if (!_config.aclUser.isEmpty()) {
            args << QStringLiteral("--user") << _config.aclUser << QStringLiteral("on")
                 << (QLatin1Char('>') + _config.aclPassword) << QStringLiteral("~icebreaker:*")
                 << QStringLiteral("&icebreaker:*") << QStringLiteral("+@all");
            if (_config.requirePass.isEmpty()) {
                args << QStringLiteral("--user") << QStringLiteral("default") << QStringLiteral("off");
            }
        }
        _process.setProcessChannelMode(QProcess::MergedChannels);
        _process.start(QStringLiteral("redis-server"), args);
        if (!_process.waitForStarted(5000)) {
            return false;
        }
        QByteArray log;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 10000) {
            if (_process.waitForReadyRead(200)) {
                log += _process.readAll();
            }
            if (log.contains("Ready to accept connections")) {
                return true;
            }
            if (_process.state() == QProcess::NotRunning) {
                break;
            }
        }
        qWarning("redis-server did not start: %s", log.constData());
        return false;
    }

    void stop() {
        resume();
        if (_process.state() != QProcess::NotRunning) {
            _process.terminate();
            if (!_process.waitForFinished(5000)) {
                _process.kill();
                _process.waitForFinished(5000);
            }
        }
    }
    // A crash: no goodbye to the clients (the kernel still closes their sockets).
    void kill() {
        _process.kill(); // SIGKILL works on a stopped process, and a paused one answers nothing first
        _process.waitForFinished(5000);
        _paused = false;
    }
    // The server keeps its sockets open and answers nothing.
    void pause() {
        ::kill(pid_t(_process.processId()), SIGSTOP);
        _paused = true;
    }
    void resume() {
        if (_paused) {
            ::kill(pid_t(_process.processId()), SIGCONT);
            _paused = false;
        }
    }

    quint16 port() const { return _port; }
    QString url(const QString &userInfo = QString(), int db = 0) const {
        const QString auth = userInfo.isEmpty() ? QString() : userInfo + QLatin1Char('@');
        return QStringLiteral("redis://") + auth + QStringLiteral("127.0.0.1:%1/%2").arg(_port).arg(db);
    }

    // Runs redis-cli against the server with the configured credentials; its stdout.
    QByteArray cli(const QStringList &command, int db = 0) const {
        QStringList args { QStringLiteral("-p"), QString::number(_port), QStringLiteral("-n"), QString::number(db),
                           QStringLiteral("--no-auth-warning") };
        if (!_config.aclUser.isEmpty()) {
            args << QStringLiteral("--user") << _config.aclUser << QStringLiteral("--pass") << _config.aclPassword;
        } else if (!_config.requirePass.isEmpty()) {
            args << QStringLiteral("-a") << _config.requirePass;
        }
        QProcess process;
        process.start(QStringLiteral("redis-cli"), args + command);
        process.waitForFinished(10000);
        return process.readAllStandardOutput().trimmed();
    }

    // cmdstat_<name> calls= from INFO commandstats (0 when the command never ran).
    quint64 commandCalls(const QString &name) const {
        const QByteArray info = cli({ QStringLiteral("INFO"), QStringLiteral("commandstats") });
        const QByteArray tag = "cmdstat_" + name.toLatin1() + ":calls=";
        const int at = info.indexOf(tag);
        if (at < 0) {
            return 0;
        }
        const int start = at + tag.size();
        const int end = info.indexOf(',', start);
        return info.mid(start, end - start).toULongLong();
    }

private:
    Config _config;
    QTemporaryDir _dir;
    QProcess _process;
    quint16 _port = 0;
    bool _paused = false;
};

} // namespace redistest

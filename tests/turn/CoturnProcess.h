// Runs coturn's turnserver for one test on 127.0.0.1 and a free port, with every file it writes in
// a temporary directory, and stops it when the test ends. The verdict on whether it is up comes
// from a STUN binding answer, not from its log format.
#pragma once

#include <SockAddr.h>
#include <StunMessage.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QtTest>

class CoturnProcess {
public:
    ~CoturnProcess() { stop(); }

    // Found by CMake (ctest passes it on), else on PATH or in /usr/sbin and /usr/bin.
    static QString executable() {
        const QString configured = qEnvironmentVariable("ICEBREAKER_TURNSERVER");
        if (!configured.isEmpty()) {
            return configured;
        }
        const QString name = QStringLiteral("turnserver");
        const QString onPath = QStandardPaths::findExecutable(name);
        return !onPath.isEmpty()
                   ? onPath
                   : QStandardPaths::findExecutable(name, { QStringLiteral("/usr/sbin"), QStringLiteral("/usr/bin") });
    }

    // A UDP port free on loopback right now (bound, read, released).
    static quint16 freePort() {
        QUdpSocket socket;
        return socket.bind(QHostAddress(QHostAddress::LocalHost), 0) ? socket.localPort() : 0;
    }

    // Starts turnserver with the loopback relay options plus extra (credentials, lifetimes).
    // coturn 4.6 reads the value of its optional-argument options (--stale-nonce,
    // --permission-lifetime, --channel-lifetime, --max-allocate-lifetime) only in the "--opt=N"
    // form: "--opt N" silently keeps the default.
    // relayIp: where relayed addresses are allocated (another loopback address lets a test tell
    // relayed traffic from direct traffic by its source IP).
    bool start(const QStringList &extra, const QString &relayIp = QStringLiteral("127.0.0.1")) {
        if (executable().isEmpty() || !_dir.isValid()) {
            return false;
        }
        _port = freePort();
        QStringList arguments {
            QStringLiteral("-n"),
            QStringLiteral("--no-cli"),
            QStringLiteral("--no-tls"),
            QStringLiteral("--no-dtls"),
            QStringLiteral("--no-tcp"),
            QStringLiteral("--no-rfc5780"),
            QStringLiteral("--allow-loopback-peers"),
            QStringLiteral("-L"),
            QStringLiteral("127.0.0.1"),
            QStringLiteral("--listening-port"),
            QString::number(_port),
            QStringLiteral("--relay-ip"),
            relayIp,
            QStringLiteral("--log-file"),
            QStringLiteral("stdout"),
            QStringLiteral("--simple-log"),
            QStringLiteral("--pidfile"),
            _dir.filePath(QStringLiteral("turnserver.pid")),
            QStringLiteral("--userdb"),
            _dir.filePath(QStringLiteral("turndb")),
        };
        arguments += extra;
        if (qEnvironmentVariableIsSet("ICEBREAKER_COTURN_VERBOSE")) {
            arguments << QStringLiteral("--verbose");
        }
        _process.setProcessChannelMode(QProcess::MergedChannels);
        _process.start(executable(), arguments);
        if (!_process.waitForStarted(5000)) {
            return false;
        }
        return waitForStun(10000);
    }

    void stop() {
        if (_process.state() != QProcess::NotRunning) {
            _process.kill();
            _process.waitForFinished(5000);
        }
    }

    SockAddr address() const { return SockAddr(QHostAddress::LocalHost, _port); }
    QByteArray output() { return _output += _process.readAll(); }

private:
    bool waitForStun(int timeoutMs) {
        QUdpSocket socket;
        if (!socket.bind(QHostAddress(QHostAddress::LocalHost), 0)) {
            return false;
        }
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < timeoutMs && _process.state() == QProcess::Running) {
            const StunMessage request = StunMessage::bindingRequest();
            socket.writeDatagram(request.encode(), QHostAddress::LocalHost, _port);
            socket.waitForReadyRead(100);
            while (socket.hasPendingDatagrams()) {
                QByteArray datagram(int(socket.pendingDatagramSize()), Qt::Uninitialized);
                socket.readDatagram(datagram.data(), datagram.size());
                if (StunMessage::parseBindingResponse(datagram, request.transactionId).ok()) {
                    return true;
                }
            }
        }
        return false;
    }

    QTemporaryDir _dir;
    QProcess _process;
    QByteArray _output;
    quint16 _port = 0;
};

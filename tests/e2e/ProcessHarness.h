// Runs the real binaries for end-to-end tests: finds them under ICEBREAKER_BINARY_DIR, gives each
// run fresh loopback ports, keeps every process's output for assertions and for the failure log,
// and kills every process it started when the test ends, passed or not.
#pragma once

#include <SockAddr.h>
#include <StunMessage.h>

#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QtTest>

#include <memory>

class ProcessHarness {
public:
    struct Proc {
        QString name;
        std::unique_ptr<QProcess> process;
        QByteArray output;
    };

    ~ProcessHarness() { killAll(); }

    // A binary of this build, e.g. "domain-server/domain-server"; empty when it is not there.
    static QString binary(const QString &relativePath) {
        const QString dir = qEnvironmentVariable("ICEBREAKER_BINARY_DIR");
        const QString path = QDir(dir).filePath(relativePath);
        return !dir.isEmpty() && QFileInfo(path).isExecutable() ? path : QString();
    }

    // A UDP port free on the address right now (bound, read, released).
    static quint16 freeUdpPort(const QHostAddress &address = QHostAddress::LocalHost) {
        QUdpSocket socket;
        return socket.bind(address, 0) ? socket.localPort() : 0;
    }

    Proc *start(const QString &name, const QString &program, const QStringList &arguments) {
        auto proc = std::make_unique<Proc>();
        proc->name = name;
        proc->process = std::make_unique<QProcess>();
        proc->process->setProcessChannelMode(QProcess::MergedChannels);
        Proc *raw = proc.get();
        QObject::connect(raw->process.get(), &QProcess::readyRead, [raw]() { raw->output += raw->process->readAll(); });
        raw->process->start(program, arguments);
        _procs.push_back(std::move(proc));
        if (!raw->process->waitForStarted(5000)) {
            qWarning().noquote() << "cannot start" << program << raw->process->errorString();
        }
        return raw;
    }

    static bool isRunning(Proc *proc) { return proc->process->state() == QProcess::Running; }
    static QString output(Proc *proc) {
        proc->output += proc->process->readAll();
        return QString::fromUtf8(proc->output);
    }
    static int count(Proc *proc, const QString &needle) { return output(proc).count(needle); }

    // Waits for a process to end by itself; returns its exit code (-1 on timeout or crash).
    static int waitForExit(Proc *proc, int timeoutMs) {
        QElapsedTimer clock;
        clock.start();
        while (proc->process->state() != QProcess::NotRunning && clock.elapsed() < timeoutMs) {
            QTest::qWait(20);
        }
        proc->output += proc->process->readAll();
        if (proc->process->state() != QProcess::NotRunning || proc->process->exitStatus() != QProcess::NormalExit) {
            return -1;
        }
        return proc->process->exitCode();
    }

    static void stop(Proc *proc) {
        if (proc->process->state() != QProcess::NotRunning) {
            proc->process->kill();
            proc->process->waitForFinished(5000);
        }
        proc->output += proc->process->readAll();
    }

    void killAll() {
        for (auto &proc : _procs) {
            stop(proc.get());
        }
    }

    void dumpOutputs() const {
        for (const auto &proc : _procs) {
            qInfo().noquote() << "==== output of" << proc->name << "====\n" << QString::fromUtf8(proc->output);
        }
    }

    void clear() {
        killAll();
        _procs.clear();
    }

    // True once something answers a STUN binding request at the address: how we know an ice-server
    // or coturn is up without reading its log format.
    static bool waitForStun(const SockAddr &server, int timeoutMs) {
        QUdpSocket socket;
        if (!socket.bind(QHostAddress(QHostAddress::AnyIPv4), 0)) {
            return false;
        }
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < timeoutMs) {
            const StunMessage request = StunMessage::bindingRequest();
            socket.writeDatagram(request.encode(), server.getAddress(), server.getPort());
            QTest::qWait(100);
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

private:
    std::vector<std::unique_ptr<Proc>> _procs;
};

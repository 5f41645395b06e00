// ice-bench's loss attribution reads the kernel's per-socket drop counters: a receiver that is
// not read overflows, and every datagram sent is either read or counted as dropped at its socket.
#include <RunMeter.h>

#include <QtTest/QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {
// A non-blocking UDP socket on 127.0.0.1; receiveBuffer > 0 shrinks its receive buffer.
int udpSocket(int receiveBuffer = 0) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (receiveBuffer > 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof(receiveBuffer));
    }
    sockaddr_in local {};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr *>(&local), sizeof(local));
    return fd;
}

quint64 inodeOf(int fd) {
    struct stat info {};
    return ::fstat(fd, &info) == 0 ? quint64(info.st_ino) : 0;
}

// Reads everything the socket holds; returns how many datagrams that was.
int readAll(int fd) {
    char buffer[2048];
    int count = 0;
    while (::recv(fd, buffer, sizeof(buffer), 0) >= 0) {
        ++count;
    }
    return count;
}
} // namespace

class tst_RunMeter : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void findsTheProcessSockets() {
        const int fd = udpSocket();
        QVERIFY(fd >= 0);
        QVERIFY(socketInodes(::getpid()).contains(inodeOf(fd)));
        ::close(fd);
        QVERIFY(!socketInodes(::getpid()).contains(inodeOf(fd)));
    }

    // Every datagram sent to a receiver nobody reads is either still queued or counted as dropped
    // at its socket, by udpDrops and by a RunMeter that watches this process as the target and
    // the receiver as the generator's socket.
    void countsOverflow_data() {
        QTest::addColumn<int>("datagrams");
        QTest::addColumn<bool>("overflows");
        QTest::addRow("fits") << 2 << false;
        QTest::addRow("overflows") << 400 << true;
    }
    void countsOverflow() {
        QFETCH(int, datagrams);
        QFETCH(bool, overflows);
        const int receiver = udpSocket(4096); // the kernel doubles it: a few datagrams fit
        const int sender = udpSocket();
        QVERIFY(receiver >= 0 && sender >= 0);
        sockaddr_in to {};
        socklen_t length = sizeof(to);
        QCOMPARE(::getsockname(receiver, reinterpret_cast<sockaddr *>(&to), &length), 0);

        bool ok = false;
        const quint64 before = udpDrops({ inodeOf(receiver) }, &ok);
        QVERIFY(ok);
        QCOMPARE(before, quint64(0));
        const RunMeter meter(::getpid(), { receiver });
        const QByteArray datagram(200, 'x');
        for (int i = 0; i < datagrams; ++i) {
            QCOMPARE(::sendto(sender, datagram.constData(), size_t(datagram.size()), 0,
                              reinterpret_cast<const sockaddr *>(&to), sizeof(to)),
                     ssize_t(datagram.size()));
        }
        // Loopback delivers within sendto: what was not queued has been dropped by now.
        const int queued = readAll(receiver);
        const quint64 dropped = udpDrops({ inodeOf(receiver) });
        QCOMPARE(quint64(queued) + dropped, quint64(datagrams));
        QCOMPARE(dropped > 0, overflows);

        const RunCounters counters = meter.counters();
        QVERIFY(counters.known);
        QCOMPARE(counters.generatorDrops, dropped);
        QCOMPARE(counters.serverDrops, dropped); // the target is this process: the same socket
        QVERIFY(counters.wallSeconds > 0);
        QVERIFY(counters.generatorCpu >= 0);
        ::close(receiver);
        ::close(sender);
    }

    void unknownTarget() {
        // A process that does not exist (pid_max is at most 2^22): nothing can be attributed to it.
        const RunMeter meter(1 << 23, {});
        QVERIFY(!meter.counters().known);
    }
};

QTEST_GUILESS_MAIN(tst_RunMeter)
#include "tst_runmeter.moc"

// relay-bench: what a TURN relay costs on the data path, on loopback. It starts coturn itself (as
// the tests do), then measures between two sockets of this process, a "client" that relays through
// its TurnClient and a "domain" that answers plainly:
//   1. keepalive RTT: sequential ping/echo round trips, direct and through the relay (Send
//      indications, then a bound channel);
//   2. a stream: 1,000 datagrams/s of 1,200 bytes for 10 s, direct and through the relay, with
//      loss and one-way latency (each datagram carries its send time; one process, one clock).
// Figures are printed; BENCHMARKS.md has the method and a run.
#include <QUdpSocketTransport.h>
#include <SockAddr.h>
#include <TurnClient.h>
#include <TurnCredentials.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QFileInfo>
#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtCore/QtEndian>
#include <QtNetwork/QUdpSocket>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

namespace {

QElapsedTimer gClock;
qint64 nowUs() {
    return gClock.nsecsElapsed() / 1000;
}

// Runs the event loop until done() or timeoutMs; false on timeout. It sleeps while nothing happens:
// a busy loop would take the CPU coturn needs on a small machine and inflate the relayed figures.
bool spin(const std::function<bool()> &done, int timeoutMs) {
    bool expired = false;
    QTimer timeout;
    timeout.setSingleShot(true);
    QObject::connect(&timeout, &QTimer::timeout, [&expired]() { expired = true; });
    timeout.start(timeoutMs);
    while (!done()) {
        if (expired) {
            return false;
        }
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    }
    return true;
}

struct Stats {
    double median = 0, p90 = 0, p99 = 0, max = 0;
};
Stats stats(std::vector<qint64> us) {
    Stats s;
    if (us.empty()) {
        return s;
    }
    std::sort(us.begin(), us.end());
    const auto at = [&us](double q) { return double(us[std::min(us.size() - 1, size_t(q * double(us.size())))]); };
    s.median = at(0.5);
    s.p90 = at(0.9);
    s.p99 = at(0.99);
    s.max = double(us.back());
    return s;
}

QByteArray stamped(quint32 seq, int size) {
    QByteArray d(size, 'x');
    qToBigEndian<quint32>(seq, d.data());
    qToBigEndian<qint64>(nowUs(), d.data() + 4);
    return d;
}

// The two ends and how the client reaches the domain.
struct Bench {
    QUdpSocketTransport client, domain;
    TurnClient *turn = nullptr;
    bool relayed = false;

    SockAddr domainAddr() const { return domain.localSocket(); }
    // Client -> domain, direct or through the relay.
    void send(const QByteArray &d) {
        if (relayed) {
            turn->sendTo(domainAddr(), d);
        } else {
            client.writeDatagram(d, domainAddr());
        }
    }
    // Where the domain answers: the client's own socket, or its relayed address.
    IpEndpoint clientAddr() const { return relayed ? IpEndpoint(turn->relayedAddress()) : client.localSocket(); }
};

// Sequential round trips: the client sends, the domain echoes, the client times the answer.
std::vector<qint64> rtts(Bench &b, int count, int gapMs) {
    std::vector<qint64> out;
    quint32 waiting = 0;
    qint64 sentAt = 0;
    bool answered = false;
    const auto onClient = [&](const QByteArray &d) {
        if (d.size() >= 4 && qFromBigEndian<quint32>(d.constData()) == waiting) {
            out.push_back(nowUs() - sentAt);
            answered = true;
        }
    };
    auto c1 = QObject::connect(&b.client, &UdpTransport::datagramReceived,
                               [&](const QByteArray &d, const SockAddr &from) {
                                   if (!b.relayed || !b.turn->handleDatagram(d, from)) {
                                       onClient(d);
                                   }
                               });
    auto c2 = QObject::connect(b.turn, &TurnClient::relayedDatagram,
                               [&](const QByteArray &d, const SockAddr &) { onClient(d); });
    auto c3 = QObject::connect(&b.domain, &UdpTransport::datagramReceived, [&](const QByteArray &d, const SockAddr &) {
        b.domain.writeDatagram(d, b.clientAddr());
    });
    for (int i = 0; i < count; ++i) {
        waiting = quint32(i + 1);
        answered = false;
        sentAt = nowUs();
        b.send(stamped(waiting, 64));
        spin([&] { return answered; }, 1000);
        spin([] { return false; }, gapMs); // the gap between keepalives
    }
    QObject::disconnect(c1);
    QObject::disconnect(c2);
    QObject::disconnect(c3);
    return out;
}

struct StreamResult {
    int sent = 0, received = 0;
    std::vector<qint64> oneWayUs;
};
// rate datagrams/s of size bytes for seconds, client -> domain; the domain records arrivals.
StreamResult stream(Bench &b, int rate, int size, int seconds) {
    StreamResult r;
    std::vector<bool> seen(size_t(rate) * size_t(seconds) + 1, false);
    auto c = QObject::connect(&b.domain, &UdpTransport::datagramReceived, [&](const QByteArray &d, const SockAddr &) {
        if (d.size() != size) {
            return;
        }
        const quint32 seq = qFromBigEndian<quint32>(d.constData());
        if (seq < seen.size() && !seen[seq]) {
            seen[seq] = true;
            ++r.received;
            r.oneWayUs.push_back(nowUs() - qFromBigEndian<qint64>(d.constData() + 4));
        }
    });
    auto c1 = QObject::connect(
        &b.client, &UdpTransport::datagramReceived, [&](const QByteArray &d, const SockAddr &from) {
            if (b.relayed) {
                b.turn->handleDatagram(d, from); // keep the TURN client's refreshes and answers flowing
            }
        });
    const int total = rate * seconds;
    QElapsedTimer t;
    t.start();
    QTimer pace;
    pace.setTimerType(Qt::PreciseTimer);
    pace.setInterval(1);
    QObject::connect(&pace, &QTimer::timeout, [&]() {
        // Catch up to the schedule: datagram n leaves at n / rate seconds.
        const qint64 due = std::min<qint64>(total, t.nsecsElapsed() * rate / 1000000000);
        while (r.sent < due) {
            ++r.sent;
            b.send(stamped(quint32(r.sent), size));
        }
        if (r.sent >= total) {
            pace.stop();
        }
    });
    pace.start();
    spin([&] { return r.sent >= total; }, seconds * 1000 + 5000);
    // Late arrivals: wait half a second after the last send.
    spin([] { return false; }, 500);
    QObject::disconnect(c);
    QObject::disconnect(c1);
    return r;
}

void printRtt(const char *what, const std::vector<qint64> &us, int count) {
    const Stats s = stats(us);
    std::printf("  %-34s %5zu/%-5d %8.0f %8.0f %8.0f %8.0f\n", what, us.size(), count, s.median, s.p90, s.p99, s.max);
}

void printStream(const char *what, const StreamResult &r) {
    const Stats s = stats(r.oneWayUs);
    const double loss = r.sent > 0 ? 100.0 * double(r.sent - r.received) / double(r.sent) : 0.0;
    std::printf("  %-22s %7d %8d %7.3f %% %8.0f %8.0f %8.0f %8.0f\n", what, r.sent, r.received, loss, s.median, s.p90,
                s.p99, s.max);
}

} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("relay-bench"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "What a TURN relay (coturn, started on loopback) costs on the data path: keepalive RTT direct and relayed, "
        "and a stream of datagrams through the relay with its loss and one-way latency."));
    parser.addHelpOption();
    parser.addOption({ QStringLiteral("turnserver"), QStringLiteral("coturn's turnserver binary (default: on PATH)."),
                       QStringLiteral("PATH") });
    parser.addOption({ QStringLiteral("pings"), QStringLiteral("Round trips per path (default 500)."),
                       QStringLiteral("N"), QStringLiteral("500") });
    parser.addOption({ QStringLiteral("rate"), QStringLiteral("Stream datagrams per second (default 1000)."),
                       QStringLiteral("N"), QStringLiteral("1000") });
    parser.addOption({ QStringLiteral("size"), QStringLiteral("Stream datagram payload bytes (default 1200)."),
                       QStringLiteral("N"), QStringLiteral("1200") });
    parser.addOption({ QStringLiteral("seconds"), QStringLiteral("Stream duration (default 10)."), QStringLiteral("S"),
                       QStringLiteral("10") });
    parser.process(app);
    const int pings = qMax(1, parser.value(QStringLiteral("pings")).toInt());
    const int rate = qMax(1, parser.value(QStringLiteral("rate")).toInt());
    const int size = qBound(12, parser.value(QStringLiteral("size")).toInt(), 8000);
    const int seconds = qMax(1, parser.value(QStringLiteral("seconds")).toInt());
    QString turnserver = parser.value(QStringLiteral("turnserver"));
    if (turnserver.isEmpty()) {
        turnserver = QStandardPaths::findExecutable(QStringLiteral("turnserver"));
        if (turnserver.isEmpty()) {
            turnserver = QStandardPaths::findExecutable(QStringLiteral("turnserver"),
                                                        { QStringLiteral("/usr/bin"), QStringLiteral("/usr/sbin") });
        }
    }
    if (turnserver.isEmpty()) {
        std::fprintf(stderr, "relay-bench: turnserver (coturn) not found; give --turnserver\n");
        return 1;
    }
    gClock.start();

    // coturn on a free loopback port, everything it writes in a temporary directory.
    QTemporaryDir dir;
    quint16 port = 0;
    {
        QUdpSocket probe;
        probe.bind(QHostAddress(QHostAddress::LocalHost), 0);
        port = probe.localPort();
    }
    QProcess coturn;
    coturn.setProcessChannelMode(QProcess::MergedChannels);
    coturn.start(turnserver, { QStringLiteral("-n"),
                               QStringLiteral("--no-cli"),
                               QStringLiteral("--no-tls"),
                               QStringLiteral("--no-dtls"),
                               QStringLiteral("--no-tcp"),
                               QStringLiteral("--no-rfc5780"),
                               QStringLiteral("--allow-loopback-peers"),
                               QStringLiteral("-L"),
                               QStringLiteral("127.0.0.1"),
                               QStringLiteral("--listening-port"),
                               QString::number(port),
                               QStringLiteral("--relay-ip"),
                               QStringLiteral("127.0.0.1"),
                               QStringLiteral("--log-file"),
                               QStringLiteral("stdout"),
                               QStringLiteral("--simple-log"),
                               QStringLiteral("--pidfile"),
                               dir.filePath(QStringLiteral("pid")),
                               QStringLiteral("--userdb"),
                               dir.filePath(QStringLiteral("db")),
                               QStringLiteral("--lt-cred-mech"),
                               QStringLiteral("--user"),
                               QStringLiteral("u:p"),
                               QStringLiteral("--realm"),
                               QStringLiteral("relay-bench") });
    if (!coturn.waitForStarted(5000)) {
        std::fprintf(stderr, "relay-bench: cannot start %s\n", qPrintable(turnserver));
        return 1;
    }

    Bench b;
    if (!b.client.bind(QHostAddress::LocalHost, 0) || !b.domain.bind(QHostAddress::LocalHost, 0)) {
        std::fprintf(stderr, "relay-bench: cannot bind loopback sockets\n");
        return 1;
    }
    // Both ends live on one thread: room for a burst while the other end sends.
    b.client.setReceiveBufferSize(4 << 20);
    b.domain.setReceiveBufferSize(4 << 20);
    b.turn = new TurnClient(&b.client, SockAddr(QHostAddress::LocalHost, port),
                            TurnCredentials { QStringLiteral("u"), QStringLiteral("p") }, &app);
    bool allocated = false;
    QObject::connect(b.turn, &TurnClient::allocated, [&]() { allocated = true; });
    // coturn needs a moment to listen: retry the allocation until it answers.
    for (int attempt = 0; attempt < 20 && !allocated; ++attempt) {
        auto c = QObject::connect(&b.client, &UdpTransport::datagramReceived,
                                  [&](const QByteArray &d, const SockAddr &from) { b.turn->handleDatagram(d, from); });
        b.turn->allocate();
        spin([&] { return allocated || b.turn->state() == TurnClient::Failed; }, 3000);
        QObject::disconnect(c);
    }
    if (!allocated) {
        std::fprintf(stderr, "relay-bench: no allocation: %s\n%s\n", qPrintable(b.turn->errorString()),
                     coturn.readAll().constData());
        return 1;
    }
    bool permitted = false;
    QObject::connect(b.turn, &TurnClient::permissionCreated, [&]() { permitted = true; });
    auto pump = QObject::connect(&b.client, &UdpTransport::datagramReceived,
                                 [&](const QByteArray &d, const SockAddr &from) { b.turn->handleDatagram(d, from); });
    b.turn->addPermission(b.domainAddr().getAddress());
    spin([&] { return permitted; }, 3000);
    QObject::disconnect(pump);

    std::printf("relay-bench: coturn %s on 127.0.0.1:%u, relayed address %s\n",
                qPrintable(QFileInfo(turnserver).fileName()), port, qPrintable(b.turn->relayedAddress().toString()));
    std::printf("\nkeepalive RTT, %d sequential round trips of 64 bytes, 10 ms apart (microseconds)\n", pings);
    std::printf("  %-34s %11s %8s %8s %8s %8s\n", "path", "answered", "median", "p90", "p99", "max");
    b.relayed = false;
    printRtt("direct", rtts(b, pings, 10), pings);
    b.relayed = true;
    printRtt("relay, Send/Data indications", rtts(b, pings, 10), pings);
    bool bound = false;
    QObject::connect(b.turn, &TurnClient::channelBound, [&]() { bound = true; });
    pump = QObject::connect(&b.client, &UdpTransport::datagramReceived,
                            [&](const QByteArray &d, const SockAddr &from) { b.turn->handleDatagram(d, from); });
    b.turn->bindChannel(b.domainAddr());
    spin([&] { return bound; }, 3000);
    QObject::disconnect(pump);
    printRtt(bound ? "relay, ChannelData" : "relay, ChannelData (NOT BOUND)", rtts(b, pings, 10), pings);

    std::printf("\nstream, %d datagrams/s of %d bytes for %d s, one way (microseconds)\n", rate, size, seconds);
    std::printf("  %-22s %7s %8s %9s %8s %8s %8s %8s\n", "path", "sent", "received", "loss", "median", "p90", "p99",
                "max");
    b.relayed = false;
    const StreamResult direct = stream(b, rate, size, seconds);
    printStream("direct", direct);
    b.relayed = true;
    const StreamResult relayed = stream(b, rate, size, seconds);
    printStream("relay (ChannelData)", relayed);
    std::printf("  added one-way latency through the relay: median %+.0f us, p99 %+.0f us\n",
                stats(relayed.oneWayUs).median - stats(direct.oneWayUs).median,
                stats(relayed.oneWayUs).p99 - stats(direct.oneWayUs).p99);

    pump = QObject::connect(&b.client, &UdpTransport::datagramReceived,
                            [&](const QByteArray &d, const SockAddr &from) { b.turn->handleDatagram(d, from); });
    bool released = false;
    QObject::connect(b.turn, &TurnClient::released, [&]() { released = true; });
    b.turn->release();
    spin([&] { return released; }, 2000);
    coturn.kill();
    coturn.waitForFinished(3000);
    return 0;
}

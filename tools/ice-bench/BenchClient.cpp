#include "BenchClient.h"

#include <algorithm>
#include <chrono>
#include <deque>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {
constexpr int Batch = 64;
constexpr int MaxDatagram = 2048;

qint64 nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int makeSocket() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in local {};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr *>(&local), sizeof(local));
    int buffer = 4 * 1024 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer));
    return fd;
}

// Reused receive storage: recvmmsg fills up to Batch datagrams per call. One per thread, so two
// clients may run at once in two threads (the cluster run drives two nodes together).
struct ReceiveBuffers {
    char data[Batch][MaxDatagram];
    iovec vectors[Batch];
    mmsghdr headers[Batch];
    ReceiveBuffers() {
        for (int i = 0; i < Batch; ++i) {
            vectors[i] = { data[i], MaxDatagram };
            headers[i] = {};
            headers[i].msg_hdr.msg_iov = &vectors[i];
            headers[i].msg_hdr.msg_iovlen = 1;
        }
    }
};
thread_local ReceiveBuffers receiveBuffers;
} // namespace

struct BenchClient::Socket {
    int fd = -1;
    int index = 0; // within its set
    quint64 counter = 0;
    std::deque<qint64> inFlight; // send times, oldest first
};

double percentile(std::vector<quint32> &sample, double p) {
    if (sample.empty()) {
        return 0;
    }
    const size_t index = std::min(sample.size() - 1, size_t(p * double(sample.size())));
    std::nth_element(sample.begin(), sample.begin() + long(index), sample.end());
    return double(sample[index]);
}

BenchClient::BenchClient(const sockaddr_in &server, int socketsPerSet)
    : _server(server), _count(socketsPerSet), _sockets(size_t(2 * socketsPerSet)) {
    for (int i = 0; i < 2 * _count; ++i) {
        _sockets[size_t(i)].fd = makeSocket();
        _sockets[size_t(i)].index = i % _count;
    }
}

BenchClient::~BenchClient() {
    for (const Socket &socket : _sockets) {
        ::close(socket.fd);
    }
}

void BenchClient::send(Socket &socket, const Next &next, int count, qint64 now) {
    mmsghdr headers[Batch];
    iovec vectors[Batch];
    while (count > 0) {
        const int n = std::min(count, Batch);
        for (int i = 0; i < n; ++i) {
            const QByteArray &datagram = next(socket.index, socket.counter++);
            vectors[i] = { const_cast<char *>(datagram.constData()), size_t(datagram.size()) };
            headers[i] = {};
            headers[i].msg_hdr.msg_name = &_server;
            headers[i].msg_hdr.msg_namelen = sizeof(_server);
            headers[i].msg_hdr.msg_iov = &vectors[i];
            headers[i].msg_hdr.msg_iovlen = 1;
        }
        const int sent = ::sendmmsg(socket.fd, headers, unsigned(n), 0);
        for (int i = 0; i < std::max(sent, 0); ++i) {
            socket.inFlight.push_back(now);
        }
        if (sent < n) {
            return; // send buffer full: the caller sees fewer in flight
        }
        count -= n;
    }
}

int BenchClient::receive(int i, bool own, BenchResult &result, std::vector<quint32> &latencies) {
    Socket &socket = _sockets[size_t(i)];
    int answered = 0;
    for (;;) {
        const int n = ::recvmmsg(socket.fd, receiveBuffers.headers, Batch, MSG_DONTWAIT, nullptr);
        if (n <= 0) {
            return answered;
        }
        const qint64 now = nowNs();
        for (int k = 0; k < n; ++k) {
            if (!own) {
                ++result.other;
                continue;
            }
            if (socket.inFlight.empty()) {
                continue; // a late answer to a request already counted lost
            }
            latencies.push_back(quint32(std::min<qint64>((now - socket.inFlight.front()) / 1000, UINT32_MAX)));
            socket.inFlight.pop_front();
            ++result.completed;
            ++answered;
            const char *data = receiveBuffers.data[k];
            if (receiveBuffers.headers[k].msg_len >= 6 && data[4] == 0x3c) {
                ++result.denied; // ICEServerHeartbeatDenied's type byte
            }
        }
        if (n < Batch) {
            return answered;
        }
    }
}

QList<int> BenchClient::fds(Set set) const {
    QList<int> fds;
    const int first = set == DomainSockets ? 0 : _count;
    for (int s = first; s < first + _count; ++s) {
        fds.append(_sockets[size_t(s)].fd);
    }
    return fds;
}

quint64 BenchClient::drain(int ms, Set set) {
    std::vector<pollfd> fds;
    for (const Socket &socket : _sockets) {
        fds.push_back({ socket.fd, POLLIN, 0 });
    }
    const int first = set == DomainSockets ? 0 : _count;
    BenchResult ignored;
    std::vector<quint32> none;
    quint64 own = 0;
    const qint64 end = nowNs() + qint64(ms) * 1'000'000;
    while (nowNs() < end) {
        if (::poll(fds.data(), nfds_t(fds.size()), 20) > 0) {
            for (int i = 0; i < int(_sockets.size()); ++i) {
                const quint64 before = ignored.other;
                receive(i, false, ignored, none);
                own += i >= first && i < first + _count ? ignored.other - before : 0;
            }
        }
    }
    for (Socket &socket : _sockets) {
        socket.inFlight.clear();
    }
    return own;
}

BenchResult BenchClient::closedLoop(const Next &next, Set set, double seconds, int window, int timeoutMs) {
    const int first = set == DomainSockets ? 0 : _count;
    BenchResult result;
    std::vector<quint32> latencies;
    latencies.reserve(1 << 22);
    std::vector<pollfd> fds;
    for (const Socket &socket : _sockets) {
        fds.push_back({ socket.fd, POLLIN, 0 });
    }
    const qint64 start = nowNs();
    const qint64 end = start + qint64(seconds * 1e9);
    for (int s = first; s < first + _count; ++s) {
        send(_sockets[size_t(s)], next, window, start);
        result.sent += _sockets[size_t(s)].inFlight.size();
    }
    qint64 now = start;
    while ((now = nowNs()) < end) {
        // No early "continue" when nothing arrived: a window whose requests all went unanswered
        // must still reach the timeout below, or the run stalls until its end.
        const bool readable = ::poll(fds.data(), nfds_t(fds.size()), 1) > 0;
        for (int i = 0; readable && i < 2 * _count; ++i) {
            if (!(fds[size_t(i)].revents & POLLIN)) {
                continue;
            }
            const bool own = i >= first && i < first + _count;
            Socket &socket = _sockets[size_t(i)];
            const int answered = receive(i, own, result, latencies);
            if (own) {
                const size_t before = socket.inFlight.size();
                send(socket, next, answered, nowNs());
                result.sent += socket.inFlight.size() - before;
            }
        }
        for (int s = first; s < first + _count; ++s) {
            Socket &socket = _sockets[size_t(s)];
            if (!socket.inFlight.empty() && now - socket.inFlight.front() > qint64(timeoutMs) * 1'000'000) {
                result.lost += socket.inFlight.size(); // the server dropped them: start the window again
                socket.inFlight.clear();
                send(socket, next, window, now);
                result.sent += socket.inFlight.size();
            }
        }
    }
    result.seconds = double(nowNs() - start) / 1e9;
    result.p50Us = percentile(latencies, 0.50);
    result.p99Us = percentile(latencies, 0.99);
    drain(300); // the last windows' answers: not lost, so not late either
    return result;
}

BenchResult BenchClient::paced(const Next &next, Set set, double rate, double seconds, double drainSeconds) {
    const int first = set == DomainSockets ? 0 : _count;
    BenchResult result;
    std::vector<quint32> latencies;
    latencies.reserve(size_t(rate * seconds) + 1024);
    std::vector<pollfd> fds;
    for (const Socket &socket : _sockets) {
        fds.push_back({ socket.fd, POLLIN, 0 });
    }
    const qint64 start = nowNs();
    const qint64 end = start + qint64(seconds * 1e9);
    const qint64 stop = end + qint64(drainSeconds * 1e9);
    const timespec tick { 0, 100'000 };
    quint64 due = 0;
    qint64 now;
    while ((now = nowNs()) < stop) {
        if (now < end) {
            const auto target = quint64(double(now - start) / 1e9 * rate);
            // Round-robin: datagram k leaves from socket k % count, so each socket gets its share.
            const auto upTo = [this](quint64 k, int s) {
                return (k + quint64(_count) - 1 - quint64(s)) / quint64(_count);
            };
            for (int s = 0; s < _count; ++s) {
                Socket &socket = _sockets[size_t(first + s)];
                const size_t before = socket.inFlight.size();
                send(socket, next, int(upTo(target, s) - upTo(due, s)), now);
                result.sent += socket.inFlight.size() - before;
            }
            due = target;
        }
        if (::ppoll(fds.data(), nfds_t(fds.size()), &tick, nullptr) > 0) {
            for (int i = 0; i < 2 * _count; ++i) {
                if (fds[size_t(i)].revents & POLLIN) {
                    receive(i, i >= first && i < first + _count, result, latencies);
                }
            }
        }
    }
    result.seconds = seconds;
    result.lost = result.sent - result.completed;
    result.p50Us = percentile(latencies, 0.50);
    result.p99Us = percentile(latencies, 0.99);
    result.late = drain(100, set);
    return result;
}

void BenchClient::discardPending() {
    drain(50);
}

bool BenchClient::answers(const QByteArray &datagram, int timeoutMs) {
    const qint64 end = nowNs() + qint64(timeoutMs) * 1'000'000;
    Socket &socket = _sockets[size_t(_count)];
    pollfd fd { socket.fd, POLLIN, 0 };
    char buffer[MaxDatagram];
    while (nowNs() < end) {
        ::sendto(socket.fd, datagram.constData(), size_t(datagram.size()), 0,
                 reinterpret_cast<const sockaddr *>(&_server), sizeof(_server));
        if (::poll(&fd, 1, 100) > 0 && ::recv(socket.fd, buffer, sizeof(buffer), 0) >= 0) {
            drain(50);
            return true;
        }
    }
    return false;
}

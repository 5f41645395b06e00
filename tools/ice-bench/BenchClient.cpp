#include "BenchClient.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <unordered_map>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {
using Clock = std::chrono::steady_clock;

qint64 nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
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
} // namespace

double percentile(std::vector<quint32> &sample, double p) {
    if (sample.empty()) {
        return 0;
    }
    const size_t index = std::min(sample.size() - 1, size_t(p * double(sample.size())));
    std::nth_element(sample.begin(), sample.begin() + long(index), sample.end());
    return double(sample[index]);
}

BenchClient::BenchClient(const sockaddr_in &server, int socketsPerSet) : _server(server), _count(socketsPerSet) {
    _epoll = ::epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < 2 * _count; ++i) {
        const int fd = makeSocket();
        (i < _count ? _domainSockets : _querySockets).push_back(fd);
        epoll_event event {};
        event.events = EPOLLIN;
        event.data.u32 = quint32(i);
        ::epoll_ctl(_epoll, EPOLL_CTL_ADD, fd, &event);
    }
}

BenchClient::~BenchClient() {
    for (int fd : _domainSockets) {
        ::close(fd);
    }
    for (int fd : _querySockets) {
        ::close(fd);
    }
    ::close(_epoll);
}

int BenchClient::drainOne(int fd, char *buffer, int size) {
    const ssize_t n = ::recv(fd, buffer, size_t(size), 0);
    return n < 0 ? -1 : int(n);
}

BenchResult BenchClient::closedLoop(const std::function<const QByteArray &(int, quint64)> &next, bool useQuerySockets,
                                    double seconds, int timeoutMs) {
    std::vector<int> &sockets = useQuerySockets ? _querySockets : _domainSockets;
    const int offset = useQuerySockets ? _count : 0;
    std::vector<qint64> sentAt(size_t(_count), 0);
    std::vector<quint64> counter(size_t(_count), 0);
    std::vector<quint32> latencies;
    latencies.reserve(1 << 20);
    BenchResult result;
    char buffer[2048];

    auto send = [&](int s) {
        const QByteArray &datagram = next(s, counter[size_t(s)]++);
        ::sendto(sockets[size_t(s)], datagram.constData(), size_t(datagram.size()), 0,
                 reinterpret_cast<const sockaddr *>(&_server), sizeof(_server));
        sentAt[size_t(s)] = nowNs();
        ++result.sent;
    };
    const qint64 start = nowNs();
    const qint64 end = start + qint64(seconds * 1e9);
    for (int s = 0; s < _count; ++s) {
        send(s);
    }
    epoll_event events[256];
    qint64 lastTimeoutScan = start;
    for (;;) {
        const qint64 now = nowNs();
        if (now >= end) {
            break;
        }
        const int ready = ::epoll_wait(_epoll, events, 256, 1);
        for (int e = 0; e < ready; ++e) {
            const int index = int(events[e].data.u32) - offset;
            if (index < 0 || index >= _count) {
                // The other set (e.g. peer information sent to the domains): count and discard.
                const int fd = int(events[e].data.u32) < _count ? _domainSockets[events[e].data.u32]
                                                                : _querySockets[events[e].data.u32 - quint32(_count)];
                while (drainOne(fd, buffer, sizeof(buffer)) >= 0) {
                    ++result.other;
                }
                continue;
            }
            while (drainOne(sockets[size_t(index)], buffer, sizeof(buffer)) >= 0) {
                if (sentAt[size_t(index)] == 0) {
                    continue; // a late answer to a request already counted lost
                }
                const qint64 t = nowNs();
                latencies.push_back(quint32(std::min<qint64>((t - sentAt[size_t(index)]) / 1000, UINT32_MAX)));
                ++result.completed;
                if (buffer[4] == 0x3c) {
                    ++result.denied;
                }
                sentAt[size_t(index)] = 0;
                if (t < end) {
                    send(index);
                }
            }
        }
        if (now - lastTimeoutScan > 10'000'000) {
            lastTimeoutScan = now;
            for (int s = 0; s < _count; ++s) {
                if (sentAt[size_t(s)] != 0 && now - sentAt[size_t(s)] > qint64(timeoutMs) * 1'000'000) {
                    ++result.lost;
                    sentAt[size_t(s)] = 0;
                    send(s);
                }
            }
        }
    }
    result.seconds = double(nowNs() - start) / 1e9;
    result.p50Us = percentile(latencies, 0.50);
    result.p99Us = percentile(latencies, 0.99);
    // Drain what is still in flight so the next phase starts clean.
    const qint64 drainEnd = nowNs() + 300'000'000;
    while (nowNs() < drainEnd) {
        const int ready = ::epoll_wait(_epoll, events, 256, 20);
        for (int e = 0; e < ready; ++e) {
            const quint32 i = events[e].data.u32;
            const int fd = i < quint32(_count) ? _domainSockets[i] : _querySockets[i - quint32(_count)];
            while (drainOne(fd, buffer, sizeof(buffer)) >= 0) {
            }
        }
    }
    return result;
}

BenchClient::Paced BenchClient::paced(const QList<QByteArray> &heartbeats, double heartbeatsPerSecond,
                                      const std::function<const QByteArray &(quint64)> &query, double queriesPerSecond,
                                      double seconds, double drainSeconds) {
    Paced result;
    std::vector<std::deque<qint64>> pending(size_t(2 * _count));
    std::vector<quint32> hbLatencies, queryLatencies;
    char buffer[2048];
    quint64 hbSent = 0, querySent = 0;
    const qint64 start = nowNs();
    const qint64 end = start + qint64(seconds * 1e9);
    const qint64 stop = end + qint64(drainSeconds * 1e9);
    epoll_event events[256];
    for (;;) {
        const qint64 now = nowNs();
        if (now >= stop) {
            break;
        }
        if (now < end) {
            const double elapsed = double(now - start) / 1e9;
            const auto hbDue = quint64(elapsed * heartbeatsPerSecond);
            for (; hbSent < hbDue; ++hbSent) {
                const int domain = int(hbSent % quint64(heartbeats.size()));
                const int s = domain % _count;
                const QByteArray &datagram = heartbeats[domain];
                if (::sendto(_domainSockets[size_t(s)], datagram.constData(), size_t(datagram.size()), 0,
                             reinterpret_cast<const sockaddr *>(&_server), sizeof(_server)) > 0) {
                    pending[size_t(s)].push_back(nowNs());
                }
            }
            const auto queryDue = quint64(elapsed * queriesPerSecond);
            for (; querySent < queryDue; ++querySent) {
                const int s = int(querySent % quint64(_count));
                const QByteArray &datagram = query(querySent);
                if (::sendto(_querySockets[size_t(s)], datagram.constData(), size_t(datagram.size()), 0,
                             reinterpret_cast<const sockaddr *>(&_server), sizeof(_server)) > 0) {
                    pending[size_t(_count + s)].push_back(nowNs());
                }
            }
        }
        // 1 ms granularity: at 100k/s about 100 sends go out per wake-up, and the client does not spin.
        const int ready = ::epoll_wait(_epoll, events, 256, 1);
        for (int e = 0; e < ready; ++e) {
            const quint32 i = events[e].data.u32;
            const bool isQuery = i >= quint32(_count);
            const int fd = isQuery ? _querySockets[i - quint32(_count)] : _domainSockets[i];
            int n;
            while ((n = drainOne(fd, buffer, sizeof(buffer))) >= 0) {
                if (n < 6) {
                    continue;
                }
                const quint8 type = quint8(buffer[4]);
                if (!isQuery && type == 0x16) {
                    ++result.queries.other; // the client's record, delivered to the domain
                    continue;
                }
                std::deque<qint64> &queue = pending[i];
                BenchResult &r = isQuery ? result.queries : result.heartbeats;
                if (queue.empty()) {
                    continue;
                }
                (isQuery ? queryLatencies : hbLatencies).push_back(quint32((nowNs() - queue.front()) / 1000));
                queue.pop_front();
                ++r.completed;
                if (type == 0x3c) {
                    ++r.denied;
                }
            }
        }
    }
    result.heartbeats.seconds = result.queries.seconds = seconds;
    result.heartbeats.sent = hbSent;
    result.queries.sent = querySent;
    result.heartbeats.lost = hbSent - result.heartbeats.completed;
    result.queries.lost = querySent - result.queries.completed;
    result.heartbeats.p50Us = percentile(hbLatencies, 0.5);
    result.heartbeats.p99Us = percentile(hbLatencies, 0.99);
    result.queries.p50Us = percentile(queryLatencies, 0.5);
    result.queries.p99Us = percentile(queryLatencies, 0.99);
    return result;
}

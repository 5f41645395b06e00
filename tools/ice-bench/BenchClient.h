// The load generator: plain non-blocking POSIX UDP sockets and epoll, so the client costs less
// than the server it measures. Two sets of sockets on 127.0.0.1: "domain" sockets (domain i always
// heartbeats from socket i % count, as a real domain keeps its socket) and "query" sockets.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QList>

#include <functional>
#include <netinet/in.h>
#include <vector>

struct BenchResult {
    double seconds = 0;
    quint64 sent = 0;
    quint64 completed = 0;  // answers matched to a request
    quint64 lost = 0;       // requests with no answer within the timeout
    quint64 other = 0;      // e.g. peer information delivered to domain sockets
    quint64 denied = 0;
    double p50Us = 0, p99Us = 0;
    double rate() const { return seconds > 0 ? double(completed) / seconds : 0; }
};

class BenchClient {
public:
    BenchClient(const sockaddr_in &server, int socketsPerSet);
    ~BenchClient();

    void setServer(const sockaddr_in &server) { _server = server; }
    int socketsPerSet() const { return _count; }

    // One request outstanding per socket; each answer (any datagram on that socket) sends the next.
    // next(socket, n) gives the n-th datagram of that socket. useQuerySockets picks the set.
    BenchResult closedLoop(const std::function<const QByteArray &(int socket, quint64 n)> &next, bool useQuerySockets,
                           double seconds, int timeoutMs = 200);

    // Open loop: heartbeats[i] from domain socket i % count at heartbeatsPerSecond, cycling, and
    // queries from query sockets at queriesPerSecond. Answers are matched in order per socket.
    struct Paced {
        BenchResult heartbeats;
        BenchResult queries;
    };
    Paced paced(const QList<QByteArray> &heartbeats, double heartbeatsPerSecond,
                const std::function<const QByteArray &(quint64 n)> &query, double queriesPerSecond, double seconds,
                double drainSeconds = 0.5);

private:
    int drainOne(int fd, char *buffer, int size);

    sockaddr_in _server;
    int _count;
    int _epoll = -1;
    std::vector<int> _domainSockets;
    std::vector<int> _querySockets;
};

// p-th percentile (0..1) of a sample, in the sample's unit; 0 for an empty sample.
double percentile(std::vector<quint32> &sample, double p);

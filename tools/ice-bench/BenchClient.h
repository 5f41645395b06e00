// The load generator: plain non-blocking POSIX UDP sockets on 127.0.0.1, sending with sendmmsg and
// reading with recvmmsg, so the client costs a few system calls per batch, not per datagram, and
// can saturate a C echo. Two sets of sockets: "domain" sockets (domain i always heartbeats from
// socket i % count, as a real domain keeps its socket) and "query" sockets (queries, STUN).
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QList>

#include <functional>
#include <netinet/in.h>
#include <vector>

struct BenchResult {
    double seconds = 0;
    quint64 sent = 0;
    quint64 completed = 0; // answers matched to a request
    quint64 lost = 0;      // requests with no answer (closed loop: within the timeout)
    quint64 other = 0;     // datagrams on the other set, e.g. peer information sent to domains
    quint64 late = 0;      // answers that came after the run, its drain included (counted lost)
    quint64 denied = 0;
    double p50Us = 0, p99Us = 0;
    double rate() const { return seconds > 0 ? double(completed) / seconds : 0; }
};

class BenchClient {
public:
    enum Set { DomainSockets, QuerySockets };
    // The n-th datagram socket s of the set sends.
    using Next = std::function<const QByteArray &(int socket, quint64 n)>;

    BenchClient(const sockaddr_in &server, int socketsPerSet);
    ~BenchClient();
    BenchClient(const BenchClient &) = delete;
    BenchClient &operator=(const BenchClient &) = delete;

    void setServer(const sockaddr_in &server) { _server = server; }
    int socketsPerSet() const { return _count; }
    // The set's sockets (their kernel drop counters are the answers this client lost).
    QList<int> fds(Set set) const;

    // Closed loop: `window` requests in flight per socket of the set; every answer sends the next.
    // Answers are matched in order per socket (the servers measured answer in order).
    BenchResult closedLoop(const Next &next, Set set, double seconds, int window, int timeoutMs = 200);
    // Open loop: `rate` datagrams/s spread round-robin over the set's sockets, sent in batches
    // every 100 µs; answers matched in order per socket, late ones counted for drainSeconds.
    BenchResult paced(const Next &next, Set set, double rate, double seconds, double drainSeconds = 0.5);
    // Reads and drops whatever the sockets hold (e.g. peer information that arrived while this
    // client was idle) and forgets requests in flight.
    void discardPending();
    // True when the server answers a datagram within timeoutMs (e.g. a daemon that logs no port).
    bool answers(const QByteArray &datagram, int timeoutMs);

private:
    struct Socket;
    void send(Socket &socket, const Next &next, int count, qint64 now);
    // Reads all socket i has; own-set answers are matched and timed. Returns how many were.
    int receive(int i, bool own, BenchResult &result, std::vector<quint32> &latencies);
    // Reads and drops what arrives for ms; returns how many datagrams came to the set's sockets.
    quint64 drain(int ms, Set set = DomainSockets);

    sockaddr_in _server;
    int _count;
    std::vector<Socket> _sockets; // domain set first, then query set
};

// p-th percentile (0..1) of a sample, in the sample's unit; 0 for an empty sample.
double percentile(std::vector<quint32> &sample, double p);

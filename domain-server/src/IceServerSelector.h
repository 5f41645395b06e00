// Which ice-server the domain heartbeats to. Holds the configured servers (host and port, the port
// honoured unlike upstream's quirk Q10), resolves each name to all its IPv4 and IPv6 addresses,
// and on failover moves to the next address, then the next server, round-robin in configured order.
#pragma once

#include <HostAndPort.h>
#include <SockAddr.h>

#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QSet>
#include <QtCore/QString>

class QHostInfo;

class IceServerSelector : public QObject {
    Q_OBJECT
public:
    static constexpr quint16 DefaultIcePort = 7337;

    explicit IceServerSelector(const QList<HostAndPort> &servers, QObject *parent = nullptr);
    // Aborts DNS lookups still under way.
    ~IceServerSelector() override;

    // Resolves every server name (IP literals need no DNS). resolutionFinished() follows once each
    // server has an answer; the first usable address becomes current as soon as it is known.
    void start();

    const QList<HostAndPort> &servers() const { return _servers; }
    // Every resolved address, in failover order.
    QList<SockAddr> candidates() const;
    bool hasCurrent() const { return _currentIndex >= 0; }
    // True while a DNS lookup is under way.
    bool isResolving() const { return !_pendingLookups.isEmpty(); }
    SockAddr current() const;
    // "host:port (address)" of the current choice, for logs.
    QString currentLabel() const;
    // True when the address belongs to any configured server (IP compared, port ignored: a
    // multi-homed ice-server may answer from another of its addresses than the one we used).
    bool isKnownIceServerAddress(const QHostAddress &address) const;

    // Replaces a server's addresses, as a DNS answer does (tests use it to stand in for DNS).
    void setResolvedAddresses(int serverIndex, const QList<QHostAddress> &addresses);

public Q_SLOTS:
    // The current address stopped answering: move to the next one. After the last address of the
    // last server it starts over from the first and refreshes the names.
    void failCurrent();

Q_SIGNALS:
    void currentChanged(const SockAddr &iceServer, const QString &label);
    void resolutionFailed(const QString &host, const QString &errorString);
    // Every server's first lookup is done; candidates() may still be empty.
    void resolutionFinished();

private:
    struct Entry {
        HostAndPort spec;
        QList<QHostAddress> addresses;
        bool answered = false;
    };
    struct Candidate {
        int server = -1;
        SockAddr socket;
    };

    void lookUp(int serverIndex);
    void handleLookup(int serverIndex, const QHostInfo &info);
    QList<Candidate> flatCandidates() const;
    void pickFirstIfNone();
    void select(int flatIndex, const QList<Candidate> &list);

    QList<Entry> _entries;
    QList<HostAndPort> _servers;
    int _currentIndex = -1; // index into flatCandidates()
    SockAddr _currentSocket;
    int _currentServer = -1;
    bool _finishedReported = false;
    QSet<int> _pendingLookups; // QHostInfo lookup IDs
};

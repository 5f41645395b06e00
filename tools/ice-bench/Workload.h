// What ice-bench sends: N domain IDs with pre-signed heartbeats (one RSA key for all of them, so
// N need not mean N slow key generations), cached on disk because signing 100k heartbeats takes
// about a minute; plus queries. Reported sockets are fixed (127.0.0.1:40102), so a heartbeat does
// not depend on the port a run happens to get and the cache stays valid.
#pragma once

#include <RsaPrivateKey.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QUuid>

struct Workload {
    RsaPrivateKey key;
    QList<QUuid> domainIDs;
    QList<QByteArray> heartbeats; // whole datagrams

    // Loads from the cache or signs (threads in parallel) and saves. False with a reason on error.
    bool prepare(int domains, int threads, QString *errorString);
    // Writes one key file per domain (the same public key) into dir.
    bool writeKeyFiles(const QString &dir, QString *errorString) const;

    static QUuid domainID(int index);
    static QByteArray query(const QUuid &clientID, const QUuid &domainID);
};

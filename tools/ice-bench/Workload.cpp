#include "Workload.h"

#include <CryptoBackend.h>
#include <IcePackets.h>
#include <NLDatagram.h>

#include <QtCore/QDataStream>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QSaveFile>
#include <QtCore/QStandardPaths>

#include <cstdio>
#include <thread>
#include <vector>

namespace {
const IpEndpoint Reported(QHostAddress(QHostAddress::LocalHost), 40102);
constexpr quint32 CacheMagic = 0x1ceb0001;

QByteArray datagram(PacketType type, const QByteArray &payload) {
    NLDatagram packet = NLDatagram::create(type, payload);
    packet.udt.sequenceNumber = 1;
    return packet.toDatagram();
}
} // namespace

QUuid Workload::domainID(int index) {
    // A fixed version-4-shaped ID per index: the same across runs, so the signature cache applies.
    return QUuid(0x1ceb0000u + quint32(index), 0xbe7c, 0x4000, 0x80, 0, 0, 0, 0, 0, 0, 1);
}

QByteArray Workload::query(const QUuid &clientID, const QUuid &domainID) {
    IceServerQuery q { clientID, Reported, Reported, domainID };
    return datagram(PacketType::ICEServerQuery, q.toPayload());
}

bool Workload::prepare(int domains, int threads, QString *errorString) {
    const QString cacheDir = QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation)
                             + QStringLiteral("/icebreaker");
    const QString cachePath = cacheDir + QStringLiteral("/ice-bench-%1.bin").arg(domains);
    QFile cache(cachePath);
    if (cache.open(QIODevice::ReadOnly)) {
        QDataStream in(&cache);
        quint32 magic = 0;
        qint32 count = 0;
        QByteArray keyPem;
        in >> magic >> count >> keyPem;
        if (magic == CacheMagic && count == domains) {
            key = RsaPrivateKey::fromData(keyPem);
            heartbeats.reserve(domains);
            for (int i = 0; i < domains && in.status() == QDataStream::Ok; ++i) {
                QByteArray hb;
                in >> hb;
                heartbeats.append(hb);
                domainIDs.append(domainID(i));
            }
            if (!key.isNull() && heartbeats.size() == domains && in.status() == QDataStream::Ok) {
                std::fprintf(stderr, "ice-bench: %d signed heartbeats from %s\n", domains, qPrintable(cachePath));
                return true;
            }
        }
        heartbeats.clear();
        domainIDs.clear();
    }

    std::fprintf(stderr, "ice-bench: signing %d heartbeats with one RSA-2048 key on %d threads (cached in %s)...\n",
                 domains, threads, qPrintable(cachePath));
    key = RsaPrivateKey::generate(2048, errorString);
    if (key.isNull()) {
        return false;
    }
    std::vector<QByteArray> signedHeartbeats(static_cast<size_t>(domains));
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = t; i < domains; i += threads) {
                IceServerHeartbeat hb;
                hb.domainID = domainID(i);
                hb.publicSocket = Reported;
                hb.localSocket = Reported;
                hb.signature = CryptoBackend::defaultBackend()->sign(
                    key, IceServerHeartbeat::signedPlaintext(hb.domainID, Reported, Reported));
                signedHeartbeats[size_t(i)] = datagram(PacketType::ICEServerHeartbeat, hb.toPayload());
            }
        });
    }
    for (std::thread &worker : workers) {
        worker.join();
    }
    for (int i = 0; i < domains; ++i) {
        domainIDs.append(domainID(i));
        heartbeats.append(signedHeartbeats[size_t(i)]);
    }

    QDir().mkpath(cacheDir);
    QSaveFile out(cachePath);
    if (out.open(QIODevice::WriteOnly)) {
        QDataStream stream(&out);
        stream << CacheMagic << qint32(domains) << key.toPem();
        for (const QByteArray &hb : qAsConst(heartbeats)) {
            stream << hb;
        }
        out.commit();
    }
    return true;
}

bool Workload::writeKeyFiles(const QString &dir, QString *errorString) const {
    const QByteArray pem = key.publicKey().toPem();
    for (const QUuid &id : domainIDs) {
        QFile file(dir + QLatin1Char('/') + id.toString(QUuid::WithoutBraces) + QStringLiteral(".pem"));
        if (!file.open(QIODevice::WriteOnly) || file.write(pem) != pem.size()) {
            if (errorString) {
                *errorString = QStringLiteral("cannot write %1").arg(file.fileName());
            }
            return false;
        }
    }
    return true;
}

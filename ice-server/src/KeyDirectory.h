// The embedded key source: a directory of trusted domain public keys, one file per domain named
// "<domain-uuid>" with or without .pem/.der/.pub/.key, holding SPKI or PKCS#1 as PEM, DER or
// base64 (RsaPublicKey::fromData). A file added, changed or removed takes effect without a
// restart: the directory is watched (QFileSystemWatcher) and, for file systems where watching is
// unreliable (NFS, some containers), rescanned periodically. Identical keys are shared, so many
// domains using one key cost one parsed key.
#pragma once

#include <RsaPublicKey.h>

#include <QtCore/QDateTime>
#include <QtCore/QFileSystemWatcher>
#include <QtCore/QHash>
#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <QtCore/QSet>
#include <QtCore/QTimer>
#include <QtCore/QUuid>

#include <atomic>
#include <memory>

class KeyDirectory : public QObject {
    Q_OBJECT
public:
    struct Key {
        RsaPublicKey key;
        quint64 serial = 0; // changes whenever the key for the ID changes
    };

    static constexpr qint64 MaxKeyFileBytes = 64 * 1024;
    static constexpr int MaxWatchedFiles = 2048; // inotify watches are a per-user budget

    KeyDirectory(const QString &path, int rescanIntervalMs = 30000, QObject *parent = nullptr);

    // Creates the directory when missing, reads it and starts watching. False with a reason when
    // the directory cannot be created or read.
    bool start(QString *errorString = nullptr);

    QString path() const { return _path; }
    // On the directory's own thread (where rescans change the keys).
    const Key *find(const QUuid &id) const;
    // From any thread: copies the key into *key; false when the directory has none for the ID.
    // Each thread reads the snapshot it took after the last rescan that changed something, so
    // threads looking up keys at once share no lock and write no shared memory.
    bool copyKey(const QUuid &id, Key *key) const;
    // The same lookup for the serial alone: no copy of the key, so no write to its reference count
    // (a line every thread would otherwise write for every heartbeat that shares the key).
    bool keySerial(const QUuid &id, quint64 *serial) const;
    int size() const { return int(_keys.size()); }

    // The domain ID a file name stands for (null for files that are not key files).
    static QUuid idFromFileName(const QString &fileName);

public Q_SLOTS:
    // Re-reads what changed since the last scan.
    void rescan();

Q_SIGNALS:
    // A key appeared, changed (present = true) or went away (present = false).
    void keyChanged(const QUuid &id, bool present);

private:
    struct FileState {
        QUuid id;
        qint64 size = -1;
        RsaPublicKey key; // null when the file did not hold a usable key; shared when identical
        qint64 modifiedMs = 0;
    };

    // The calling thread's snapshot entry for the ID (valid until its next lookup), or null.
    const Key *snapshotFind(const QUuid &id) const;
    void scheduleRescan();
    bool readFile(const QString &fileName, FileState &state);
    void watchFiles();

    QString _path;
    QFileSystemWatcher _watcher;
    QTimer _rescanTimer;
    QTimer _debounce;
    QHash<QString, FileState> _files;
    QHash<QUuid, Key> _keys;
    // What copyKey() reads: _keys as of the last change, replaced whole (never modified), and a
    // generation that moves with each replacement.
    const quint64 _instance; // tells directories apart in the readers' per-thread snapshots
    mutable QMutex _publishMutex;
    std::shared_ptr<const QHash<QUuid, Key>> _published;
    std::atomic<quint64> _generation { 0 };
    QSet<QString> _watchedFiles;
    QHash<QByteArray, RsaPublicKey> _interned; // SPKI DER -> the one shared key value
    quint64 _nextSerial = 1;
};

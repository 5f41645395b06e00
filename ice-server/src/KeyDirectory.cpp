#include "KeyDirectory.h"

#include "IceServerLogging.h"

#include <QtCore/QDir>
#include <QtCore/QDirIterator>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>

namespace {
std::atomic<quint64> nextInstance { 1 };
} // namespace

KeyDirectory::KeyDirectory(const QString &path, int rescanIntervalMs, QObject *parent)
    : QObject(parent), _path(QDir(path).absolutePath()), _instance(nextInstance++),
      _published(std::make_shared<const QHash<QUuid, Key>>()) {
    _rescanTimer.setInterval(rescanIntervalMs);
    connect(&_rescanTimer, &QTimer::timeout, this, &KeyDirectory::rescan);
    // Editors and "cp" produce several events per change; one rescan shortly after is enough.
    _debounce.setSingleShot(true);
    _debounce.setInterval(50);
    connect(&_debounce, &QTimer::timeout, this, &KeyDirectory::rescan);
    connect(&_watcher, &QFileSystemWatcher::directoryChanged, this, &KeyDirectory::scheduleRescan);
    connect(&_watcher, &QFileSystemWatcher::fileChanged, this, [this](const QString &path) {
        // A file replaced by rename loses its watch: forget it so the rescan watches the new one.
        _watcher.removePath(path);
        _watchedFiles.remove(QFileInfo(path).fileName());
        scheduleRescan();
    });
}

bool KeyDirectory::start(QString *errorString) {
    QDir dir(_path);
    if (!dir.exists() && !dir.mkpath(QStringLiteral("."))) {
        if (errorString) {
            *errorString = QStringLiteral("cannot create key directory %1").arg(_path);
        }
        return false;
    }
    if (!QFileInfo(_path).isReadable()) {
        if (errorString) {
            *errorString = QStringLiteral("cannot read key directory %1").arg(_path);
        }
        return false;
    }
    if (!_watcher.addPath(_path)) {
        qCInfo(ice_server) << "cannot watch" << _path << "- relying on the periodic rescan every"
                           << _rescanTimer.interval() << "ms";
    }
    rescan();
    if (_rescanTimer.interval() > 0) {
        _rescanTimer.start();
    }
    return true;
}

const KeyDirectory::Key *KeyDirectory::find(const QUuid &id) const {
    auto it = _keys.constFind(id);
    return it == _keys.constEnd() ? nullptr : &it.value();
}

const KeyDirectory::Key *KeyDirectory::snapshotFind(const QUuid &id) const {
    struct Snapshot {
        quint64 instance = 0;
        quint64 generation = 0;
        std::shared_ptr<const QHash<QUuid, Key>> keys;
    };
    thread_local Snapshot snapshot;
    if (snapshot.instance != _instance || snapshot.generation != _generation.load(std::memory_order_acquire)) {
        QMutexLocker lock(&_publishMutex);
        snapshot.instance = _instance;
        snapshot.generation = _generation.load(std::memory_order_relaxed);
        snapshot.keys = _published;
    }
    auto it = snapshot.keys->constFind(id);
    return it == snapshot.keys->constEnd() ? nullptr : &it.value();
}

bool KeyDirectory::copyKey(const QUuid &id, Key *key) const {
    const Key *found = snapshotFind(id);
    if (!found) {
        return false;
    }
    *key = *found;
    return true;
}

bool KeyDirectory::keySerial(const QUuid &id, quint64 *serial) const {
    const Key *found = snapshotFind(id);
    if (!found) {
        return false;
    }
    *serial = found->serial;
    return true;
}

QUuid KeyDirectory::idFromFileName(const QString &fileName) {
    QString stem = fileName;
    for (const char *ext : { ".pem", ".der", ".pub", ".key" }) {
        if (stem.endsWith(QLatin1String(ext), Qt::CaseInsensitive)) {
            stem.chop(int(qstrlen(ext)));
            break;
        }
    }
    // Exactly a UUID (36 characters, or 38 with braces): "x.pem.bak" or "notes.txt" are not keys.
    if (stem.size() != 36 && stem.size() != 38) {
        return QUuid();
    }
    return QUuid::fromString(stem);
}

void KeyDirectory::scheduleRescan() {
    if (!_debounce.isActive()) {
        _debounce.start();
    }
}

bool KeyDirectory::readFile(const QString &fileName, FileState &state) {
    QFile file(QDir(_path).filePath(fileName));
    if (state.size > MaxKeyFileBytes) {
        qCWarning(ice_server) << "ignoring key file" << file.fileName() << ": larger than" << MaxKeyFileBytes
                              << "bytes";
        return false;
    }
    if (!file.open(QIODevice::ReadOnly)) {
        qCWarning(ice_server) << "cannot read key file" << file.fileName() << ":" << file.errorString();
        return false;
    }
    QString error;
    const RsaPublicKey key = RsaPublicKey::fromData(file.read(MaxKeyFileBytes), &error);
    if (key.isNull()) {
        qCWarning(ice_server) << "ignoring key file" << file.fileName() << ":" << error;
        return false;
    }
    // Many domains may share one key (e.g. one operator's fleet): keep one value per distinct key.
    const QByteArray der = key.toSubjectPublicKeyInfoDer();
    auto shared = _interned.constFind(der);
    state.key = shared != _interned.constEnd() ? *shared : *_interned.insert(der, key);
    return true;
}

void KeyDirectory::watchFiles() {
    const QDir dir(_path);
    for (auto it = _watchedFiles.begin(); it != _watchedFiles.end();) {
        if (!_files.contains(*it)) {
            _watcher.removePath(dir.filePath(*it));
            it = _watchedFiles.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = _files.constBegin(); it != _files.constEnd() && _watchedFiles.size() < MaxWatchedFiles; ++it) {
        if (!_watchedFiles.contains(it.key()) && _watcher.addPath(dir.filePath(it.key()))) {
            _watchedFiles.insert(it.key());
        }
    }
}

void KeyDirectory::rescan() {
    // Streamed, not entryInfoList(): 100k QFileInfo objects at once would leave tens of MB of
    // freed-but-resident heap behind in a long-running daemon.
    QHash<QString, FileState> files;
    files.reserve(_files.size());
    bool changed = false;
    QDirIterator it(_path, QDir::Files | QDir::Readable | QDir::NoDotAndDotDot);
    while (it.hasNext()) {
        it.next();
        const QFileInfo info = it.fileInfo();
        const QUuid id = idFromFileName(info.fileName());
        if (id.isNull()) {
            continue;
        }
        FileState state;
        state.id = id;
        state.modifiedMs = info.lastModified().toMSecsSinceEpoch();
        state.size = info.size();
        auto old = _files.constFind(info.fileName());
        if (old != _files.constEnd() && old->modifiedMs == state.modifiedMs && old->size == state.size) {
            state.key = old->key;
        } else {
            readFile(info.fileName(), state);
            changed = true;
        }
        files.insert(info.fileName(), state);
    }
    if (!changed && files.size() == _files.size()) {
        watchFiles();
        return;
    }
    _files.swap(files);
    watchFiles();

    // Rebuild the ID -> key map (keys are already shared), then tell what differs.
    QHash<QUuid, Key> keys;
    keys.reserve(_files.size());
    QHash<QByteArray, RsaPublicKey> stillUsed;
    for (const FileState &state : qAsConst(_files)) {
        if (state.key.isNull()) {
            continue;
        }
        const RsaPublicKey &key = state.key;
        if (stillUsed.size() < _interned.size()) {
            stillUsed.insert(key.toSubjectPublicKeyInfoDer(), key);
        }
        auto old = _keys.constFind(state.id);
        const quint64 serial = (old != _keys.constEnd() && old->key == key) ? old->serial : _nextSerial++;
        keys.insert(state.id, Key { key, serial });
    }
    QList<QUuid> removed;
    for (auto it = _keys.constBegin(); it != _keys.constEnd(); ++it) {
        if (!keys.contains(it.key())) {
            removed.append(it.key());
        }
    }
    QList<QUuid> updated;
    for (auto it = keys.constBegin(); it != keys.constEnd(); ++it) {
        auto old = _keys.constFind(it.key());
        if (old == _keys.constEnd() || old->serial != it->serial) {
            updated.append(it.key());
        }
    }
    _keys.swap(keys);
    {
        QMutexLocker lock(&_publishMutex);
        _published = std::make_shared<const QHash<QUuid, Key>>(_keys);
        _generation.fetch_add(1, std::memory_order_release);
    }
    if (stillUsed.size() < _interned.size()) {
        _interned.swap(stillUsed); // forget keys no file holds any more
    }
    if (!removed.isEmpty() || !updated.isEmpty()) {
        qCInfo(ice_server).nospace() << "key directory " << _path << ": " << _keys.size() << " keys (" << updated.size()
                                     << " new or changed, " << removed.size() << " removed)";
    }
    for (const QUuid &id : qAsConst(removed)) {
        Q_EMIT keyChanged(id, false);
    }
    for (const QUuid &id : qAsConst(updated)) {
        Q_EMIT keyChanged(id, true);
    }
}

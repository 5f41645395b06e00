// Turns SIGINT and SIGTERM into a Qt signal, so a daemon (ice-server, domain-server) stops from its
// event loop and cleans up (the domain releases its TURN allocation): the handler only writes a byte
// to a pipe (async-signal-safe), a QSocketNotifier reads it on the main thread.
#pragma once

#include <QtCore/QObject>

class QSocketNotifier;

class SignalWatcher : public QObject {
    Q_OBJECT
public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

    // Installs the handlers; false when the pipe cannot be made. One watcher per process.
    bool install();

Q_SIGNALS:
    void terminationRequested(int signalNumber);

private:
    void readSignal();

    QSocketNotifier *_notifier = nullptr;
};

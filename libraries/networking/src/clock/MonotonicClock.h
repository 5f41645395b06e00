// Time as the roles see it: a monotonic millisecond count and timers that fire on it. Production
// code uses MonotonicClock::system() (QElapsedTimer and QTimer); a test passes a fake clock that it
// advances by hand, so timing is driven instead of waited for and no verdict depends on sleeps.
#pragma once

#include <QtCore/QObject>

// A timer on some clock: QTimer's interface, as far as the roles use it. Create one with
// MonotonicClock::createTimer().
class ClockTimer : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    void setInterval(int ms) { _intervalMs = ms; }
    int interval() const { return _intervalMs; }
    void setSingleShot(bool singleShot) { _singleShot = singleShot; }
    bool isSingleShot() const { return _singleShot; }

    // (Re)starts the timer: the first timeout comes one interval from now.
    virtual void start() = 0;
    void start(int ms) {
        setInterval(ms);
        start();
    }
    virtual void stop() = 0;
    virtual bool isActive() const = 0;

Q_SIGNALS:
    void timeout();

private:
    int _intervalMs = 0;
    bool _singleShot = false;
};

class MonotonicClock {
public:
    virtual ~MonotonicClock();

    // Milliseconds since an arbitrary origin; never goes back.
    virtual qint64 nowMs() const = 0;
    // A stopped timer on this clock, owned by parent (or by the caller when parent is null).
    virtual ClockTimer *createTimer(QObject *parent = nullptr) = 0;

    // The real clock (steady, process-wide) with QTimer-backed timers.
    static MonotonicClock &system();
};

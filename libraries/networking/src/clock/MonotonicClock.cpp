#include "MonotonicClock.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QTimer>

namespace {

class SystemTimer : public ClockTimer {
public:
    explicit SystemTimer(QObject *parent) : ClockTimer(parent) {
        connect(&_timer, &QTimer::timeout, this, &ClockTimer::timeout);
    }
    void start() override {
        _timer.setSingleShot(isSingleShot());
        _timer.start(interval());
    }
    void stop() override { _timer.stop(); }
    bool isActive() const override { return _timer.isActive(); }

private:
    QTimer _timer;
};

class SystemClock : public MonotonicClock {
public:
    SystemClock() { _elapsed.start(); }
    qint64 nowMs() const override { return _elapsed.elapsed(); }
    ClockTimer *createTimer(QObject *parent) override { return new SystemTimer(parent); }

private:
    QElapsedTimer _elapsed;
};

} // namespace

MonotonicClock::~MonotonicClock() = default;

MonotonicClock &MonotonicClock::system() {
    static SystemClock clock;
    return clock;
}

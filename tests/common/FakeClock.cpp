#include "FakeClock.h"

#include <QtCore/QtGlobal>

FakeClock::FakeClock(qint64 startMs, QObject *parent) : QObject(parent), _nowMs(startMs) {}

FakeClock::~FakeClock() {
    for (FakeClockTimer *timer : qAsConst(_timers)) {
        timer->_clock = nullptr;
        timer->_active = false;
    }
}

ClockTimer *FakeClock::createTimer(QObject *parent) {
    auto *timer = new FakeClockTimer(this, parent);
    _timers.append(timer);
    return timer;
}

FakeClockTimer *FakeClock::nextDue(qint64 limitMs) const {
    FakeClockTimer *next = nullptr;
    for (FakeClockTimer *timer : _timers) {
        if (!timer->_active || (limitMs >= 0 && timer->_dueMs > limitMs)) {
            continue;
        }
        if (!next || timer->_dueMs < next->_dueMs
            || (timer->_dueMs == next->_dueMs && timer->_sequence < next->_sequence)) {
            next = timer;
        }
    }
    return next;
}

void FakeClock::advance(qint64 ms) {
    Q_ASSERT(ms >= 0);
    const qint64 target = _nowMs + ms;
    // A runaway repeating timer would otherwise hang the test instead of failing it.
    for (int fired = 0; FakeClockTimer *timer = nextDue(target); ++fired) {
        if (fired > 10 * 1000 * 1000) {
            qFatal("FakeClock::advance: timers keep falling due (a zero interval?)");
        }
        _nowMs = qMax(_nowMs, timer->_dueMs);
        timer->fire();
    }
    _nowMs = target;
}

bool FakeClock::fireNext() {
    FakeClockTimer *timer = nextDue(-1);
    if (!timer) {
        return false;
    }
    _nowMs = qMax(_nowMs, timer->_dueMs);
    timer->fire();
    return true;
}

qint64 FakeClock::nextDueMs() const {
    const FakeClockTimer *timer = nextDue(-1);
    return timer ? timer->_dueMs : -1;
}

int FakeClock::activeTimerCount() const {
    int count = 0;
    for (const FakeClockTimer *timer : _timers) {
        count += timer->_active ? 1 : 0;
    }
    return count;
}

FakeClockTimer::FakeClockTimer(FakeClock *clock, QObject *parent) : ClockTimer(parent), _clock(clock) {}

FakeClockTimer::~FakeClockTimer() {
    if (_clock) {
        _clock->_timers.removeOne(this);
    }
}

void FakeClockTimer::start() {
    if (!_clock) {
        return;
    }
    _active = true;
    _dueMs = _clock->_nowMs + qMax(0, interval());
    _sequence = _clock->_nextSequence++;
}

void FakeClockTimer::fire() {
    if (isSingleShot()) {
        _active = false;
    } else {
        // As QTimer: the next timeout one interval after this one (at least 1 ms, so time moves).
        _dueMs += qMax(1, interval());
        _sequence = _clock->_nextSequence++;
    }
    Q_EMIT timeout();
}

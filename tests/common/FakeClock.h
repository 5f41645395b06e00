// A MonotonicClock a test drives: time stands still until the test advances it, and then every
// timer that falls due on the way fires, in order, at its own due time. So a test of 250 ms punch
// rounds or a 30 s silence timeout runs instantly and its verdict never depends on the machine's load.
#pragma once

#include <MonotonicClock.h>

#include <QtCore/QList>
#include <QtCore/QPointer>

class FakeClockTimer;

class FakeClock : public QObject, public MonotonicClock {
    Q_OBJECT
public:
    // Starts well away from 0, so code that treats 0 as "never" is not flattered by the fake.
    explicit FakeClock(qint64 startMs = 1000 * 1000, QObject *parent = nullptr);
    ~FakeClock() override;

    qint64 nowMs() const override { return _nowMs; }
    ClockTimer *createTimer(QObject *parent = nullptr) override;

    // Moves time forward by ms, firing each timer that falls due meanwhile (a repeating timer as
    // often as it falls due) with nowMs() at its due time.
    void advance(qint64 ms);
    // Moves time to the next due timer and fires it; false (time unchanged) when none is active.
    bool fireNext();
    // When the next active timer falls due; -1 when none is active.
    qint64 nextDueMs() const;
    int activeTimerCount() const;

private:
    friend class FakeClockTimer;
    FakeClockTimer *nextDue(qint64 limitMs) const;

    qint64 _nowMs;
    quint64 _nextSequence = 0;
    QList<FakeClockTimer *> _timers;
};

class FakeClockTimer : public ClockTimer {
    Q_OBJECT
public:
    FakeClockTimer(FakeClock *clock, QObject *parent);
    ~FakeClockTimer() override;

    void start() override;
    void stop() override { _active = false; }
    bool isActive() const override { return _active; }

private:
    friend class FakeClock;
    void fire();

    QPointer<FakeClock> _clock;
    bool _active = false;
    qint64 _dueMs = 0;
    quint64 _sequence = 0; // among timers due at once, the one started first fires first
};

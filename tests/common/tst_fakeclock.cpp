// FakeClock, which the role suites trust to stand in for time: timers fire in due order at their
// due time, repeat or not as told, stop when stopped, and nothing happens until time is advanced.
#include "FakeClock.h"

#include <QtTest/QTest>

#include <memory>

class tst_FakeClock : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void timersFireInDueOrderAtTheirDueTime() {
        FakeClock clock(0);
        QList<std::pair<char, qint64>> fired;
        ClockTimer *slow = clock.createTimer(this);
        ClockTimer *fast = clock.createTimer(this);
        connect(slow, &ClockTimer::timeout, this, [&] { fired.append({ 's', clock.nowMs() }); });
        connect(fast, &ClockTimer::timeout, this, [&] { fired.append({ 'f', clock.nowMs() }); });
        slow->start(250);
        fast->setSingleShot(true);
        fast->start(100);
        QVERIFY(fired.isEmpty());
        clock.advance(99);
        QVERIFY(fired.isEmpty());
        clock.advance(500 - 99);
        const QList<std::pair<char, qint64>> expected { { 'f', 100 }, { 's', 250 }, { 's', 500 } };
        QCOMPARE(fired, expected);
        QCOMPARE(clock.nowMs(), qint64(500));
        QVERIFY(!fast->isActive());
        QVERIFY(slow->isActive());
        QCOMPARE(clock.nextDueMs(), qint64(750));
        delete slow;
        delete fast;
    }

    void stopAndRestartFromATimeout() {
        FakeClock clock(0);
        ClockTimer *timer = clock.createTimer(this);
        int count = 0;
        connect(timer, &ClockTimer::timeout, this, [&] {
            if (++count == 3) {
                timer->stop();
            }
        });
        timer->start(10);
        clock.advance(1000);
        QCOMPARE(count, 3);
        QCOMPARE(clock.activeTimerCount(), 0);
        timer->start(); // restarts one interval from now, repeating again
        QVERIFY(clock.fireNext());
        QCOMPARE(clock.nowMs(), qint64(1010));
        QCOMPARE(count, 4);
        QCOMPARE(clock.nextDueMs(), qint64(1020));
        timer->stop();
        QVERIFY(!clock.fireNext());
        QCOMPARE(clock.nowMs(), qint64(1010));
        delete timer;
    }

    void deletedTimersAndAClockThatGoesFirst() {
        auto clock = std::make_unique<FakeClock>(0);
        ClockTimer *gone = clock->createTimer();
        gone->start(5);
        delete gone;
        QCOMPARE(clock->activeTimerCount(), 0);
        std::unique_ptr<ClockTimer> survivor(clock->createTimer());
        survivor->start(5);
        clock.reset();
        QVERIFY(!survivor->isActive());
        survivor->start(5); // a timer of a destroyed clock never fires (and does not crash)
        QVERIFY(!survivor->isActive());
    }
};

QTEST_GUILESS_MAIN(tst_FakeClock)
#include "tst_fakeclock.moc"

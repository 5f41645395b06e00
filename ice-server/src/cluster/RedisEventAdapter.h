// Runs one hiredis async context on the Qt event loop: hiredis asks for read/write readiness, two
// QSocketNotifiers deliver it. Our own rather than hiredis 0.14's adapters/qt.h, whose destructor
// writes into the context after hiredis has freed it (a use-after-free on every server-side
// disconnect) and whose notifiers are deleted inside their own signal.
#pragma once

#include <QtCore/QObject>

class QSocketNotifier;
struct redisAsyncContext;

class RedisEventAdapter : public QObject {
    Q_OBJECT
public:
    // Attaches to ctx (whose ev hooks must be unset). The adapter must outlive the context or be
    // destroyed before it; once hiredis frees the context (cleanup hook) the adapter is inert.
    explicit RedisEventAdapter(redisAsyncContext *ctx, QObject *parent = nullptr);
    ~RedisEventAdapter() override;

private:
    static void addRead(void *self);
    static void delRead(void *self);
    static void addWrite(void *self);
    static void delWrite(void *self);
    static void cleanup(void *self);

    QSocketNotifier *makeNotifier(int type);
    static void retire(QSocketNotifier *&notifier);
    void handleRead();
    void handleWrite();

    redisAsyncContext *_ctx;
    QSocketNotifier *_read = nullptr;
    QSocketNotifier *_write = nullptr;
};

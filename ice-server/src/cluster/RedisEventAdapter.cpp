#include "RedisEventAdapter.h"

#include <QtCore/QSocketNotifier>

#include <hiredis/async.h>

RedisEventAdapter::RedisEventAdapter(redisAsyncContext *ctx, QObject *parent) : QObject(parent), _ctx(ctx) {
    _ctx->ev.data = this;
    _ctx->ev.addRead = &RedisEventAdapter::addRead;
    _ctx->ev.delRead = &RedisEventAdapter::delRead;
    _ctx->ev.addWrite = &RedisEventAdapter::addWrite;
    _ctx->ev.delWrite = &RedisEventAdapter::delWrite;
    _ctx->ev.cleanup = &RedisEventAdapter::cleanup;
}

RedisEventAdapter::~RedisEventAdapter() {
    if (_ctx) {
        // Destroyed while the context lives: hiredis must not call into us any more.
        _ctx->ev.data = nullptr;
        _ctx->ev.addRead = _ctx->ev.delRead = _ctx->ev.addWrite = _ctx->ev.delWrite = nullptr;
        _ctx->ev.cleanup = nullptr;
    }
    delete _read;
    delete _write;
}

QSocketNotifier *RedisEventAdapter::makeNotifier(int type) {
    auto *notifier = new QSocketNotifier(_ctx->c.fd, QSocketNotifier::Type(type), this);
    if (type == QSocketNotifier::Read) {
        connect(notifier, &QSocketNotifier::activated, this, [this] { handleRead(); });
    } else {
        connect(notifier, &QSocketNotifier::activated, this, [this] { handleWrite(); });
    }
    return notifier;
}

// A notifier may be retired from inside its own activation (hiredis frees the context while
// handling a read), so it is disabled now and deleted later, never deleted in its own signal.
void RedisEventAdapter::retire(QSocketNotifier *&notifier) {
    if (notifier) {
        notifier->setEnabled(false);
        notifier->deleteLater();
        notifier = nullptr;
    }
}

// hiredis asks for writability around every burst of commands: the notifiers are made once and
// toggled, not re-created per command.
void RedisEventAdapter::addRead(void *self) {
    auto *a = static_cast<RedisEventAdapter *>(self);
    if (a && a->_ctx) {
        if (!a->_read) {
            a->_read = a->makeNotifier(QSocketNotifier::Read);
        }
        a->_read->setEnabled(true);
    }
}

void RedisEventAdapter::delRead(void *self) {
    auto *a = static_cast<RedisEventAdapter *>(self);
    if (a && a->_read) {
        a->_read->setEnabled(false);
    }
}

void RedisEventAdapter::addWrite(void *self) {
    auto *a = static_cast<RedisEventAdapter *>(self);
    if (a && a->_ctx) {
        if (!a->_write) {
            a->_write = a->makeNotifier(QSocketNotifier::Write);
        }
        a->_write->setEnabled(true);
    }
}

void RedisEventAdapter::delWrite(void *self) {
    auto *a = static_cast<RedisEventAdapter *>(self);
    if (a && a->_write) {
        a->_write->setEnabled(false);
    }
}

void RedisEventAdapter::cleanup(void *self) {
    if (auto *a = static_cast<RedisEventAdapter *>(self)) {
        retire(a->_read);
        retire(a->_write);
        a->_ctx = nullptr; // hiredis frees the context right after this hook
    }
}

void RedisEventAdapter::handleRead() {
    if (_ctx) {
        redisAsyncHandleRead(_ctx);
    }
}

void RedisEventAdapter::handleWrite() {
    if (_ctx) {
        redisAsyncHandleWrite(_ctx);
    }
}

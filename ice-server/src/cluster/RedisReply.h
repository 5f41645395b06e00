// One Redis reply as a plain value, copied out of hiredis's redisReply so callbacks can keep it.
// NoReply stands for "the connection failed before the reply came": every command's callback runs
// exactly once, with a reply or with NoReply.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QList>

struct redisReply;

class RedisReply {
public:
    enum class Type { NoReply, Nil, Status, Error, Integer, String, Array };

    RedisReply() = default;
    static RedisReply fromHiredis(const redisReply *reply); // null: NoReply
    static RedisReply noReply() { return {}; }

    Type type() const { return _type; }
    bool isNoReply() const { return _type == Type::NoReply; }
    bool isError() const { return _type == Type::Error; }
    bool isNil() const { return _type == Type::Nil; }
    // Failed: no reply at all, or an error reply.
    bool failed() const { return _type == Type::NoReply || _type == Type::Error; }

    // Status, Error and String replies: the text or bytes.
    const QByteArray &bytes() const { return _bytes; }
    qint64 integer() const { return _integer; }
    const QList<RedisReply> &elements() const { return _elements; }

    // A one-line description for logs and errorString(): "ERR unknown command", "(nil)", ...
    QByteArray describe() const;

private:
    Type _type = Type::NoReply;
    QByteArray _bytes;
    qint64 _integer = 0;
    QList<RedisReply> _elements;
};

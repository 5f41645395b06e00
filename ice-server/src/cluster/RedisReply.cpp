#include "RedisReply.h"

#include <hiredis/hiredis.h>

RedisReply RedisReply::fromHiredis(const redisReply *reply) {
    RedisReply out;
    if (!reply) {
        return out;
    }
    switch (reply->type) {
    case REDIS_REPLY_STRING:
        out._type = Type::String;
        out._bytes = QByteArray(reply->str, int(reply->len));
        break;
    case REDIS_REPLY_STATUS:
        out._type = Type::Status;
        out._bytes = QByteArray(reply->str, int(reply->len));
        break;
    case REDIS_REPLY_ERROR:
        out._type = Type::Error;
        out._bytes = QByteArray(reply->str, int(reply->len));
        break;
    case REDIS_REPLY_INTEGER:
        out._type = Type::Integer;
        out._integer = reply->integer;
        break;
    case REDIS_REPLY_NIL: out._type = Type::Nil; break;
    case REDIS_REPLY_ARRAY:
        out._type = Type::Array;
        out._elements.reserve(int(reply->elements));
        for (size_t i = 0; i < reply->elements; ++i) {
            out._elements.append(fromHiredis(reply->element[i]));
        }
        break;
    default:
        out._type = Type::Error;
        out._bytes = "unknown reply type";
        break;
    }
    return out;
}

QByteArray RedisReply::describe() const {
    switch (_type) {
    case Type::NoReply: return "(no reply: connection lost)";
    case Type::Nil: return "(nil)";
    case Type::Integer: return QByteArray::number(_integer);
    case Type::Array: return "(array of " + QByteArray::number(_elements.size()) + ")";
    case Type::Status:
    case Type::Error:
    case Type::String: return _bytes.left(200);
    }
    return {};
}

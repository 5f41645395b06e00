// A QIODevice with upstream's typed read and write helpers (peekPrimitive, readPrimitive,
// writePrimitive): each copies sizeof(T) raw bytes in host order, as upstream's callers expect.
#pragma once

#include <QtCore/QIODevice>

class ExtendedIODevice : public QIODevice {
    Q_OBJECT
public:
    explicit ExtendedIODevice(QObject *parent = nullptr) : QIODevice(parent) {}

    template <typename T> qint64 peekPrimitive(T *data) { return peek(reinterpret_cast<char *>(data), sizeof(T)); }
    template <typename T> qint64 readPrimitive(T *data) { return read(reinterpret_cast<char *>(data), sizeof(T)); }
    template <typename T> qint64 writePrimitive(const T &data) {
        static_assert(!std::is_pointer<T>::value, "T must not be a pointer");
        return write(reinterpret_cast<const char *>(&data), sizeof(T));
    }
};

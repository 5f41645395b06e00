// A bounds-checked cursor over received bytes. Every read checks what is left first and turns an
// overrun into WireError::Truncated, so codecs can be written field by field without length maths.
// Big-endian reads follow QDataStream's default; little-endian reads follow Overte's writePrimitive.
#pragma once

#include "WireError.h"

#include <QtCore/QByteArray>
#include <QtCore/QtEndian>

#include <cstring>

class ByteReader {
public:
    explicit ByteReader(const QByteArray &data) : _data(data.constData()), _size(std::size_t(data.size())) {}
    ByteReader(const char *data, std::size_t size) : _data(data), _size(size) {}

    std::size_t position() const { return _pos; }
    std::size_t remaining() const { return _size - _pos; }
    bool atEnd() const { return _pos == _size; }
    WireError error() const { return _error; }
    bool ok() const { return _error == WireError::NoError; }

    // Marks the reader failed; later reads return zeros and keep the first error.
    void fail(WireError error) {
        if (_error == WireError::NoError) {
            _error = error;
        }
    }

    bool canRead(std::size_t n) {
        if (_error != WireError::NoError) {
            return false;
        }
        if (n > remaining()) {
            fail(WireError::Truncated);
            return false;
        }
        return true;
    }

    quint8 readU8() {
        if (!canRead(1)) {
            return 0;
        }
        return quint8(_data[_pos++]);
    }
    quint16 readU16BE() { return readScalar<quint16>(true); }
    quint32 readU32BE() { return readScalar<quint32>(true); }
    quint16 readU16LE() { return readScalar<quint16>(false); }
    quint32 readU32LE() { return readScalar<quint32>(false); }

    // Copies n raw bytes; an empty array when they are not all there.
    QByteArray readBytes(std::size_t n) {
        if (!canRead(n)) {
            return {};
        }
        QByteArray out(_data + _pos, int(n));
        _pos += n;
        return out;
    }

    bool skip(std::size_t n) {
        if (!canRead(n)) {
            return false;
        }
        _pos += n;
        return true;
    }

    const char *current() const { return _data + _pos; }

private:
    template <typename T> T readScalar(bool bigEndian) {
        if (!canRead(sizeof(T))) {
            return 0;
        }
        T value;
        std::memcpy(&value, _data + _pos, sizeof(T));
        _pos += sizeof(T);
        return bigEndian ? qFromBigEndian(value) : qFromLittleEndian(value);
    }

    const char *_data;
    std::size_t _size;
    std::size_t _pos = 0;
    WireError _error = WireError::NoError;
};

// The writing twin of ByteReader: appends to a QByteArray.
class ByteWriter {
public:
    explicit ByteWriter(QByteArray &out) : _out(out) {}

    void writeU8(quint8 v) { _out.append(char(v)); }
    void writeU16BE(quint16 v) { writeScalar(qToBigEndian(v)); }
    void writeU32BE(quint32 v) { writeScalar(qToBigEndian(v)); }
    void writeU16LE(quint16 v) { writeScalar(qToLittleEndian(v)); }
    void writeU32LE(quint32 v) { writeScalar(qToLittleEndian(v)); }
    void writeBytes(const QByteArray &bytes) { _out.append(bytes); }
    void writeBytes(const char *data, int size) { _out.append(data, size); }

private:
    template <typename T> void writeScalar(T v) { _out.append(reinterpret_cast<const char *>(&v), int(sizeof(T))); }

    QByteArray &_out;
};

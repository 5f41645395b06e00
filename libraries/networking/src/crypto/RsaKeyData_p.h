// The immutable shared content behind RsaPublicKey and RsaPrivateKey: the canonical encodings,
// computed once at import, plus the per-backend parsed-handle cache.
#pragma once

#include "CryptoKeyHandle_p.h"
#include "RsaPublicKey.h"

#include <QByteArray>

class RsaPublicKeyData {
public:
    QByteArray subjectPublicKeyInfo; // canonical content
    QByteArray pkcs1;
    int bits = 0;
    CryptoKeyHandleCache handles;
};

class RsaPrivateKeyData {
public:
    QByteArray pkcs1; // canonical content
    QByteArray pkcs8;
    int bits = 0;
    RsaPublicKey publicKey;
    CryptoKeyHandleCache handles;
};

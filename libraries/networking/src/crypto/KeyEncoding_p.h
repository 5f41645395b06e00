// Text wrappers around DER key blobs: PEM blocks (RFC 7468) and bare base64, as keys arrive from
// files, metaverse servers (docs/protocol.md 5.1) and operators. Pure byte handling, no crypto library.
#pragma once

#include <QByteArray>
#include <QString>

namespace KeyEncoding {

struct PemBlock {
    QByteArray label; // e.g. "PUBLIC KEY", "RSA PRIVATE KEY"
    QByteArray der;
};

// True when the data holds a PEM BEGIN line; RFC 7468 allows explanatory text before it.
bool looksLikePem(const QByteArray &data);

// Decodes the first PEM block. Fails on a missing END line, a label mismatch, headers
// (legacy encrypted PEM) or invalid base64.
bool decodePem(const QByteArray &data, PemBlock *block, QString *errorString);

QByteArray encodePem(const QByteArray &label, const QByteArray &der);

// Strict base64 with all ASCII whitespace ignored; false on any other non-base64 byte.
bool decodeBase64(const QByteArray &text, QByteArray *out);

} // namespace KeyEncoding

#include "OpenSslBackend_p.h"

#include "CryptoKeyHandle_p.h"
#include "OpenSslKeys_p.h"
#include "RsaPrivateKey.h"
#include "RsaPublicKey.h"

#include <openssl/err.h>
#include <openssl/rsa.h>

namespace {

class OpenSslKeyHandle final : public CryptoKeyHandle {
public:
    explicit OpenSslKeyHandle(OpenSslKeys::PkeyPtr key) : pkey(std::move(key)) {}
    OpenSslKeys::PkeyPtr pkey;
};

using MdContextPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

} // namespace

OpenSslBackend::OpenSslBackend() : m_sha256(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {
    ERR_clear_error();
}

OpenSslBackend::~OpenSslBackend() {
    EVP_MD_free(m_sha256);
}

CryptoBackend::KeyHandlePtr OpenSslBackend::preparePublicKey(const RsaPublicKey &key, QString *errorString) const {
    OpenSslKeys::PkeyPtr pkey = OpenSslKeys::parsePublicDer(key.toSubjectPublicKeyInfoDer(),
                                                            OpenSslKeys::PublicDer::SubjectPublicKeyInfo, errorString);
    return pkey ? std::make_shared<const OpenSslKeyHandle>(std::move(pkey)) : nullptr;
}

CryptoBackend::KeyHandlePtr OpenSslBackend::preparePrivateKey(const RsaPrivateKey &key, QString *errorString) const {
    OpenSslKeys::PkeyPtr pkey = OpenSslKeys::parsePrivateDer(key.toPkcs1Der(), errorString);
    return pkey ? std::make_shared<const OpenSslKeyHandle>(std::move(pkey)) : nullptr;
}

QByteArray OpenSslBackend::signPrepared(const CryptoKeyHandle &key, const QByteArray &data,
                                        QString *errorString) const {
    EVP_PKEY *pkey = static_cast<const OpenSslKeyHandle &>(key).pkey.get();
    MdContextPtr context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX *keyContext = nullptr; // owned by context
    size_t length = 0;
    const auto *input = reinterpret_cast<const unsigned char *>(data.constData());
    if (!m_sha256 || !context || EVP_DigestSignInit(context.get(), &keyContext, m_sha256, nullptr, pkey) != 1
        || EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PADDING) <= 0
        || EVP_DigestSign(context.get(), nullptr, &length, input, size_t(data.size())) != 1) {
        const QString error = OpenSslKeys::takeError(QStringLiteral("signing setup failed"));
        if (errorString)
            *errorString = error;
        return {};
    }
    QByteArray signature(int(length), Qt::Uninitialized);
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char *>(signature.data()), &length, input,
                       size_t(data.size()))
        != 1) {
        const QString error = OpenSslKeys::takeError(QStringLiteral("signing failed"));
        if (errorString)
            *errorString = error;
        return {};
    }
    signature.resize(int(length));
    return signature;
}

bool OpenSslBackend::verifyPrepared(const CryptoKeyHandle &key, const QByteArray &data,
                                    const QByteArray &signature) const {
    EVP_PKEY *pkey = static_cast<const OpenSslKeyHandle &>(key).pkey.get();
    MdContextPtr context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX *keyContext = nullptr; // owned by context
    const bool valid = m_sha256 && context
                       && EVP_DigestVerifyInit(context.get(), &keyContext, m_sha256, nullptr, pkey) == 1
                       && EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PADDING) > 0
                       && EVP_DigestVerify(
                              context.get(), reinterpret_cast<const unsigned char *>(signature.constData()),
                              size_t(signature.size()), reinterpret_cast<const unsigned char *>(data.constData()),
                              size_t(data.size()))
                              == 1;
    if (!valid)
        ERR_clear_error(); // a bad signature leaves errors on this thread's queue
    return valid;
}

// A key as one backend has parsed it (an EVP_PKEY, a QCA key...), and the small per-key cache that
// keeps one handle per backend, so a key is parsed once and not on every verify.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

class CryptoBackend;

class CryptoKeyHandle {
public:
    virtual ~CryptoKeyHandle() = default;
};

using CryptoKeyHandlePtr = std::shared_ptr<const CryptoKeyHandle>;

class CryptoKeyHandleCache {
public:
    // Returns the cached handle for this backend, or makes one with make() and caches it.
    // A failed make() (null) is not cached. make() runs outside the lock, so two threads may
    // both parse the first time; the first to finish wins and the other result is dropped.
    CryptoKeyHandlePtr get(const CryptoBackend *backend, const std::function<CryptoKeyHandlePtr()> &make) const {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            for (const auto &entry : m_handles) {
                if (entry.first == backend)
                    return entry.second;
            }
        }
        CryptoKeyHandlePtr made = make();
        if (!made)
            return made;
        std::lock_guard<std::mutex> lock(m_mutex);
        for (const auto &entry : m_handles) {
            if (entry.first == backend)
                return entry.second;
        }
        m_handles.emplace_back(backend, made);
        return made;
    }

private:
    mutable std::mutex m_mutex;
    mutable std::vector<std::pair<const CryptoBackend *, CryptoKeyHandlePtr>> m_handles;
};

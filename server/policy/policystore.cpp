#include "server/policy/policystore.h"

namespace vigil::server {

PolicyStore::PolicyStore(std::filesystem::path file, ReloadCallback onReload, ErrorCallback onError)
    : m_file(std::filesystem::absolute(file)), m_onReload(std::move(onReload)),
      m_onError(std::move(onError))
{
    // The watch starts before the first load so that a change in between is not missed.
    m_watcher = std::make_unique<FileWatcher>(
        *m_file, [this] { reload(); },
        [this](const std::string &message) {
            if (m_onError)
                m_onError(message);
        });
    const std::lock_guard lock(m_reloading);
    if (!m_current.load())
        m_current.store(std::make_shared<const Policy>(loadPolicy(*m_file)));
}

PolicyStore::PolicyStore(Policy fixed) : m_current(std::make_shared<const Policy>(std::move(fixed)))
{
}

PolicyStore::~PolicyStore()
{
    m_watcher.reset();
}

bool PolicyStore::reload()
{
    if (!m_file)
        return false;
    const std::lock_guard lock(m_reloading);
    std::shared_ptr<const Policy> policy;
    try {
        policy = std::make_shared<const Policy>(loadPolicy(*m_file));
    } catch (const std::exception &e) { // PolicyError, or bad_alloc for a huge document
        if (m_onError)
            m_onError(e.what());
        return false;
    }
    m_current.store(policy);
    if (m_onReload)
        m_onReload(policy);
    return true;
}

} // namespace vigil::server

#include "protocol/ipc/secrettext.h"

#include <openssl/crypto.h>

namespace vigil::protocol::ipc {

void wipeString(std::string &text)
{
    // Resizing within the capacity never reallocates, and makes every byte of the buffer the
    // string's own to overwrite.
    text.resize(text.capacity());
    OPENSSL_cleanse(text.data(), text.size());
    text.clear();
}

void wipeJsonStrings(nlohmann::json &json)
{
    if (json.is_string()) {
        wipeString(json.get_ref<std::string &>());
    } else if (json.is_structured()) {
        for (auto &item : json)
            wipeJsonStrings(item);
    }
    json = nullptr;
}

} // namespace vigil::protocol::ipc

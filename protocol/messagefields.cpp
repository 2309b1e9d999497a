#include "protocol/messagefields.h"

#include "protocol/messages.h"

namespace vigil::protocol {

std::string uuidAt(const detail::ObjectReader &reader, std::string_view name)
{
    const std::string text = reader.string(name);
    bool ok = text.size() == 36;
    for (std::size_t i = 0; ok && i < text.size(); ++i) {
        const char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ok = c == '-';
        else
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }
    if (!ok)
        reader.fail(name, "must be a lower-case UUID");
    return text;
}

Assurance assuranceAt(const detail::ObjectReader &reader, std::string_view name)
{
    const auto assurance = assuranceFromName(reader.string(name, 16));
    if (!assurance)
        reader.fail(name, "must be \"tpm\" or \"software\"");
    return *assurance;
}

} // namespace vigil::protocol

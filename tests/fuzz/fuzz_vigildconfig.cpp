// vigild's configuration text. ConfigError is the only way parse may refuse; any other exception
// or a crash is a bug, and so is a configuration that parsed but breaks what its readers rely
// on (absolute paths, a normalised fingerprint).
#include "app/agent/vigildconfig.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace vigil::agent;
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    try {
        const auto config = VigildConfig::parse(text);
        if (!config.stateDirectory.is_absolute() || !config.socketPath.is_absolute() ||
            (config.caFile && !config.caFile->is_absolute()) || config.tcti.empty() ||
            config.privilegedGroup.empty() ||
            (config.caFingerprint && config.caFingerprint->size() != 7 + 64))
            __builtin_trap();
        if (config.enrollmentBlocker().empty() != (config.serverUrl && config.caFile))
            __builtin_trap();
    } catch (const ConfigError &e) {
        if (e.kind() != ConfigError::Kind::Invalid)
            __builtin_trap(); // parse never touches a file
    }
    return 0;
}

#include "posture/parsers/luksheader.h"

#include <QCryptographicHash>
#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

namespace vigil::posture {

namespace {

constexpr std::string_view primaryMagic{"LUKS\xba\xbe", 6};
constexpr std::string_view secondaryMagic{"SKUL\xba\xbe", 6};

// LUKS2 binary header layout (LUKS2 on-disk format, section 2).
constexpr std::size_t offVersion = 6;
constexpr std::size_t offHdrSize = 8;
constexpr std::size_t offLabel = 24;
constexpr std::size_t offChecksumAlg = 72;
constexpr std::size_t offUuid2 = 168;
constexpr std::size_t offSubsystem = 208;
constexpr std::size_t offHdrOffset = 256;
constexpr std::size_t offChecksum = 448;
constexpr std::size_t checksumFieldSize = 64;

// LUKS1 layout (LUKS1 on-disk format, figure 1).
constexpr std::size_t offCipherName = 8;
constexpr std::size_t offCipherMode = 40;
constexpr std::size_t offHashSpec = 72;
constexpr std::size_t offKeyBytes = 108;
constexpr std::size_t offUuid1 = 168;
constexpr std::size_t offKeyslots = 208;
constexpr std::size_t keyslotSize = 48;
constexpr std::uint32_t keyslotActive = 0x00AC71F3;
constexpr std::uint32_t keyslotDisabled = 0x0000DEAD;

constexpr std::size_t maxJsonDepth = 64;

std::uint64_t readBigEndian(std::string_view data, std::size_t offset, std::size_t width)
{
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < width; ++i)
        value = (value << 8) | static_cast<unsigned char>(data[offset + i]);
    return value;
}

// A NUL-terminated field of fixed size; bytes outside printable ASCII become '?' so the text
// can go into reports (which must be valid UTF-8) unchanged.
std::string fixedString(std::string_view data, std::size_t offset, std::size_t size)
{
    auto field = data.substr(offset, size);
    field = field.substr(0, field.find('\0'));
    std::string out(field);
    for (auto &c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            c = '?';
    }
    return out;
}

LuksParseResult failure(std::string error, std::size_t bytesNeeded = 0)
{
    LuksParseResult result;
    result.error = std::move(error);
    result.bytesNeeded = bytesNeeded;
    return result;
}

LuksParseResult parseLuks1(std::string_view data)
{
    if (data.size() < luks1HeaderSize)
        return failure("truncated LUKS1 header", luks1HeaderSize);
    LuksHeader header;
    header.version = 1;
    header.headerSize = luks1HeaderSize;
    const auto cipherName = fixedString(data, offCipherName, 32);
    const auto cipherMode = fixedString(data, offCipherMode, 32);
    header.hash = fixedString(data, offHashSpec, 32);
    header.uuid = fixedString(data, offUuid1, 40);
    if (cipherName.empty())
        return failure("LUKS1 header has no cipher name");
    header.cipher = cipherMode.empty() ? cipherName : cipherName + "-" + cipherMode;
    const auto keyBytes = readBigEndian(data, offKeyBytes, 4);
    if (keyBytes == 0 || keyBytes > 1024)
        return failure("LUKS1 header has an implausible key size");
    header.keyBits = static_cast<unsigned>(keyBytes * 8);
    for (int slot = 0; slot < 8; ++slot) {
        const auto state = readBigEndian(data, offKeyslots + slot * keyslotSize, 4);
        if (state == keyslotActive)
            header.keyslots.push_back({slot, "pbkdf2"});
        else if (state != keyslotDisabled)
            return failure("LUKS1 keyslot " + std::to_string(slot) + " has an invalid state");
    }
    LuksParseResult result;
    result.header = std::move(header);
    return result;
}

bool validLuks2HeaderSize(std::uint64_t size)
{
    for (std::uint64_t allowed = 16 * 1024; allowed <= luks2MaxHeaderSize; allowed *= 2) {
        if (size == allowed)
            return true;
    }
    return false;
}

std::optional<QCryptographicHash::Algorithm> checksumAlgorithm(std::string_view name)
{
    if (name == "sha1")
        return QCryptographicHash::Sha1;
    if (name == "sha224")
        return QCryptographicHash::Sha224;
    if (name == "sha256")
        return QCryptographicHash::Sha256;
    if (name == "sha384")
        return QCryptographicHash::Sha384;
    if (name == "sha512")
        return QCryptographicHash::Sha512;
    return std::nullopt;
}

bool checksumMatches(std::string_view header, QCryptographicHash::Algorithm algorithm)
{
    QCryptographicHash hash(algorithm);
    // The checksum covers binary header and JSON area with the checksum field itself zeroed.
    hash.addData(QByteArrayView(header.data(), static_cast<qsizetype>(offChecksum)));
    const std::string zeros(checksumFieldSize, '\0');
    hash.addData(QByteArrayView(zeros.data(), static_cast<qsizetype>(zeros.size())));
    const auto rest = header.substr(offChecksum + checksumFieldSize);
    hash.addData(QByteArrayView(rest.data(), static_cast<qsizetype>(rest.size())));
    const QByteArray digest = hash.result();
    const auto stored = header.substr(offChecksum, static_cast<std::size_t>(digest.size()));
    return std::equal(stored.begin(), stored.end(), digest.begin(), digest.end(),
                      [](char a, char b) { return a == b; });
}

// nlohmann's parser is iterative, but nothing in LUKS2 metadata nests deeply; refusing deep
// nesting up front keeps every later walk over the tree cheap and bounded.
bool nestingWithin(std::string_view text, std::size_t limit)
{
    std::size_t depth = 0;
    bool inString = false;
    bool escaped = false;
    for (const char c : text) {
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit)
                return false;
        } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
        }
    }
    return true;
}

std::optional<int> parseId(const std::string &text)
{
    int value = 0;
    const auto *end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value < 0)
        return std::nullopt;
    return value;
}

const nlohmann::json *member(const nlohmann::json &object, const char *name)
{
    if (!object.is_object())
        return nullptr;
    const auto it = object.find(name);
    return it == object.end() ? nullptr : &*it;
}

std::optional<std::string> stringMember(const nlohmann::json &object, const char *name)
{
    const auto *value = member(object, name);
    if (!value || !value->is_string())
        return std::nullopt;
    return value->get<std::string>();
}

std::optional<unsigned> unsignedMember(const nlohmann::json &object, const char *name)
{
    const auto *value = member(object, name);
    if (!value || !value->is_number_unsigned())
        return std::nullopt;
    const auto number = value->get<std::uint64_t>();
    if (number > 1024 * 1024)
        return std::nullopt;
    return static_cast<unsigned>(number);
}

bool arrayContains(const nlohmann::json *array, const std::string &text)
{
    if (!array || !array->is_array())
        return false;
    return std::any_of(array->begin(), array->end(), [&](const nlohmann::json &item) {
        return item.is_string() && item.get<std::string>() == text;
    });
}

std::optional<std::string> parseLuks2Metadata(const nlohmann::json &metadata, LuksHeader &header)
{
    if (!metadata.is_object())
        return "LUKS2 metadata is not a JSON object";
    const auto *segments = member(metadata, "segments");
    const auto *keyslots = member(metadata, "keyslots");
    const auto *digests = member(metadata, "digests");
    if (!segments || !segments->is_object() || !keyslots || !keyslots->is_object() || !digests ||
        !digests->is_object())
        return "LUKS2 metadata lacks segments, keyslots or digests";

    // The data segment: the lowest-numbered one of type crypt (reencryption adds a second).
    std::optional<int> segmentId;
    const nlohmann::json *segment = nullptr;
    for (const auto &[key, value] : segments->items()) {
        const auto id = parseId(key);
        if (!id)
            return "LUKS2 segment id \"" + key + "\" is not a number";
        if (stringMember(value, "type") == "crypt" && (!segmentId || *id < *segmentId)) {
            segmentId = id;
            segment = &value;
        }
    }
    if (!segment)
        return "LUKS2 metadata has no crypt segment";
    const auto encryption = stringMember(*segment, "encryption");
    if (!encryption || encryption->empty())
        return "LUKS2 crypt segment has no encryption";
    header.cipher = fixedString(*encryption, 0, encryption->size());
    header.sectorSize = unsignedMember(*segment, "sector_size");

    for (const auto &[key, value] : keyslots->items()) {
        const auto id = parseId(key);
        if (!id || !value.is_object())
            return "LUKS2 keyslot \"" + key + "\" is malformed";
        const auto *kdf = member(value, "kdf");
        const auto kdfType = kdf ? stringMember(*kdf, "type") : std::nullopt;
        header.keyslots.push_back({*id, fixedString(kdfType.value_or(""), 0, 32)});
    }
    std::sort(header.keyslots.begin(), header.keyslots.end(),
              [](const LuksKeyslot &a, const LuksKeyslot &b) { return a.id < b.id; });

    // The volume key size is a keyslot property; take it from a keyslot bound (through a
    // digest) to the data segment.
    const auto segmentKey = std::to_string(*segmentId);
    for (const auto &[key, digest] : digests->items()) {
        if (!arrayContains(member(digest, "segments"), segmentKey))
            continue;
        header.hash = fixedString(stringMember(digest, "hash").value_or(""), 0, 32);
        const auto *slots = member(digest, "keyslots");
        if (!slots || !slots->is_array())
            break;
        for (const auto &slot : *slots) {
            if (!slot.is_string())
                continue;
            const auto it = keyslots->find(slot.get<std::string>());
            if (it == keyslots->end())
                continue;
            if (const auto bytes = unsignedMember(*it, "key_size"); bytes && *bytes > 0) {
                header.keyBits = *bytes * 8;
                break;
            }
        }
        break;
    }
    return std::nullopt;
}

LuksParseResult parseLuks2(std::string_view data, bool secondary)
{
    if (data.size() < luks2BinaryHeaderSize)
        return failure("truncated LUKS2 binary header", luks2BinaryHeaderSize);
    const auto headerSize = readBigEndian(data, offHdrSize, 8);
    if (!validLuks2HeaderSize(headerSize))
        return failure("LUKS2 hdr_size " + std::to_string(headerSize) + " is not allowed");
    const auto hdrOffset = readBigEndian(data, offHdrOffset, 8);
    if (hdrOffset != (secondary ? headerSize : 0))
        return failure("LUKS2 hdr_offset " + std::to_string(hdrOffset) +
                       " does not match the header's position");
    if (data.size() < headerSize)
        return failure("truncated LUKS2 header: hdr_size is " + std::to_string(headerSize),
                       static_cast<std::size_t>(headerSize));
    const auto header = data.substr(0, static_cast<std::size_t>(headerSize));
    const auto algorithmName = fixedString(header, offChecksumAlg, 32);
    const auto algorithm = checksumAlgorithm(algorithmName);
    if (!algorithm)
        return failure("unsupported LUKS2 checksum algorithm \"" + algorithmName + "\"");
    if (!checksumMatches(header, *algorithm))
        return failure("LUKS2 header checksum mismatch");

    const auto area = header.substr(luks2BinaryHeaderSize);
    const auto end = area.find('\0');
    if (end == std::string_view::npos)
        return failure("LUKS2 JSON area is not NUL-terminated");
    const auto text = area.substr(0, end);
    if (!nestingWithin(text, maxJsonDepth))
        return failure("LUKS2 JSON nests too deeply");
    const auto metadata = nlohmann::json::parse(text, nullptr, false);
    if (metadata.is_discarded())
        return failure("LUKS2 JSON area is not valid JSON");

    LuksHeader result;
    result.version = 2;
    result.secondary = secondary;
    result.headerSize = headerSize;
    result.label = fixedString(header, offLabel, 48);
    result.uuid = fixedString(header, offUuid2, 40);
    result.subsystem = fixedString(header, offSubsystem, 48);
    if (const auto *config = member(metadata, "config")) {
        const auto jsonSize = stringMember(*config, "json_size");
        if (jsonSize && *jsonSize != std::to_string(headerSize - luks2BinaryHeaderSize))
            return failure("LUKS2 config json_size disagrees with hdr_size");
    }
    if (auto error = parseLuks2Metadata(metadata, result))
        return failure(std::move(*error));
    LuksParseResult parsed;
    parsed.header = std::move(result);
    return parsed;
}

} // namespace

LuksParseResult parseLuksHeader(std::string_view data)
{
    if (data.size() < 8) {
        // Enough to tell a LUKS device from anything else is the magic plus the version.
        const auto seen = data.substr(0, 6);
        if (primaryMagic.substr(0, seen.size()) == seen ||
            secondaryMagic.substr(0, seen.size()) == seen)
            return failure("truncated LUKS header", 8);
        return failure("no LUKS magic");
    }
    const auto magic = data.substr(0, 6);
    const bool secondary = magic == secondaryMagic;
    if (magic != primaryMagic && !secondary)
        return failure("no LUKS magic");
    const auto version = readBigEndian(data, offVersion, 2);
    if (version == 1 && !secondary)
        return parseLuks1(data);
    if (version == 2)
        return parseLuks2(data, secondary);
    return failure("unsupported LUKS version " + std::to_string(version));
}

} // namespace vigil::posture

#include "protocol/ipc/lineframer.h"
#include "protocol/ipc/request.h"
#include "protocol/ipc/response.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace vigil::protocol;
using namespace vigil::protocol::ipc;

// The lines of a stream and how it ended, however the stream was cut.
struct Framed
{
    std::vector<std::string> lines;
    bool overLimit = false;
    bool partial = false;

    bool operator==(const Framed &) const = default;
};

Framed frame(std::string_view stream, std::size_t chunk, std::size_t maxLine)
{
    LineFramer framer(maxLine);
    Framed framed;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
        framer.feed(stream.substr(at, chunk));
        while (auto line = framer.nextLine())
            framed.lines.push_back(std::move(*line));
    }
    framed.overLimit = framer.overLimit();
    framed.partial = framer.hasPartialLine();
    return framed;
}

// Whatever parses is written back in a form that parses to the same JSON.
template <typename T> void resultRoundTrip(const nlohmann::json &result)
{
    try {
        const nlohmann::json json = T::fromJson(result, "/result").toJson();
        if (T::fromJson(json, "/result").toJson() != json)
            std::abort();
    } catch (const MessageError &) {
    }
}

void asRequest(std::string_view line)
{
    Request request;
    try {
        request = parseRequest(line);
    } catch (const RequestError &e) {
        // The answer to a refused request is itself a valid server message.
        std::string answer = toLine(Response::failure(e.id(), e.error()).toJson());
        answer.pop_back();
        parseServerMessage(answer);
        return;
    }
    (void)describe(request);
    const nlohmann::json json = request.toJson();
    if (parseRequest(json.dump()).toJson() != json)
        std::abort();
}

void asServerMessage(std::string_view line)
{
    ServerMessage message;
    try {
        message = parseServerMessage(line);
    } catch (const MessageError &) {
        return;
    }
    const auto written = [](const ServerMessage &m) {
        return std::visit([](const auto &value) { return value.toJson(); }, m);
    };
    const nlohmann::json json = written(message);
    if (written(parseServerMessage(json.dump())) != json)
        std::abort();
    if (const auto *response = std::get_if<Response>(&message); response && !response->error) {
        resultRoundTrip<Status>(response->result);
        resultRoundTrip<TokenResult>(response->result);
        resultRoundTrip<DpopResult>(response->result);
        resultRoundTrip<PostureResult>(response->result);
        resultRoundTrip<MfaStatus>(response->result);
        resultRoundTrip<TotpBeginResult>(response->result);
        resultRoundTrip<RecoveryCodesResult>(response->result);
        resultRoundTrip<UserTokenResult>(response->result);
        resultRoundTrip<EmptyResult>(response->result);
    }
}

} // namespace

// vigild reads requests from any local user; vigilctl and the tray read what vigild writes.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    // A small limit, so that lines over it are common: framing must not depend on how the
    // stream was cut.
    const Framed whole = frame(text, text.size() + 1, 64);
    if (frame(text, 1, 64) != whole || frame(text, 7, 64) != whole)
        std::abort();
    // Each input is also one line, which is how most inputs reach the parsers.
    if (text.size() <= maxRequestLineSize) // the framer's limit, as on the socket
        asRequest(text);
    asServerMessage(text);
    return 0;
}

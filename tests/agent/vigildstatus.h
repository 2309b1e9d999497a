#pragma once

// vigild's status over its socket, for the suites that run vigild as a process.

#include "app/ipcclient/vigildclient.h"
#include "protocol/ipc/request.h"
#include "protocol/ipc/response.h"
#include "protocol/ipc/status.h"
#include "vigildprocess.h"

#include <QtTest>
#include <chrono>
#include <optional>

namespace vigil::test {

inline protocol::ipc::Status vigildStatus(const VigildProcess &vigild)
{
    namespace ipc = protocol::ipc;
    ipcclient::VigildClient client;
    client.connectAndWait(QString::fromStdString(vigild.socket().string()),
                          std::chrono::seconds(5));
    ipc::Request request;
    request.method = ipc::Method::Status;
    const auto result = client.call(request, std::chrono::seconds(5));
    return ipc::Status::fromJson(result, "/result");
}

// Waits (up to timeout) for a status that satisfies done, subscribed so that each change
// arrives as an event; the last one seen.
template <typename Done>
protocol::ipc::Status
waitForVigildStatus(const VigildProcess &vigild, Done done,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30))
{
    namespace ipc = protocol::ipc;
    ipcclient::VigildClient client;
    client.connectAndWait(QString::fromStdString(vigild.socket().string()),
                          std::chrono::seconds(5));
    std::optional<ipc::Status> latest;
    QObject::connect(&client, &ipcclient::VigildClient::responseReceived, &client,
                     [&](const ipc::Response &response) {
                         if (!response.error)
                             latest = ipc::Status::fromJson(response.result, "/result");
                     });
    QObject::connect(&client, &ipcclient::VigildClient::eventReceived, &client,
                     [&](const ipc::Event &event) { latest = event.status; });
    ipc::Request subscribe;
    subscribe.method = ipc::Method::Subscribe;
    client.send(subscribe);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!(latest && done(*latest)) && std::chrono::steady_clock::now() < deadline)
        QTest::qWait(20);
    return latest.value_or(ipc::Status{});
}

inline QString describe(const protocol::ipc::Status &status)
{
    return QString::fromStdString(status.toJson().dump());
}

} // namespace vigil::test

#pragma once

// A stand-in for vigild's side of the local socket (docs/ipc.md) that answers each request
// line with what the test scripts: the client's tests run it on this thread's event loop, and
// vigilctl's (a child process the test waits for) on a thread of its own.

#include "protocol/ipc/envelope.h"
#include "protocol/ipc/response.h"
#include "protocol/ipc/status.h"
#include "protocol/rfc3339.h"

#include <QLocalServer>
#include <QLocalSocket>
#include <QThread>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace vigil::test {

// What the stand-in does with one request line: write bytes, then close if asked.
struct Reply
{
    std::string bytes;
    bool close = false;
};

// The request as parsed JSON (null when the line was not JSON).
using Script = std::function<Reply(const nlohmann::json &request)>;

inline protocol::TimePoint at(const char *text)
{
    return *protocol::parseRfc3339(text);
}

// docs/ipc.md's story: enrolled with a TPM, last report found the firewall off.
inline protocol::ipc::Status nonCompliantStatus()
{
    using namespace protocol::ipc;
    Status status;
    status.state = AgentState::NonCompliant;
    status.reason = "1 check fails: firewall";
    status.enrollment =
        EnrollmentInfo{"8d3b1f4a-6c2e-4e7b-a1f0-93c5d2e8b764", protocol::Assurance::Tpm,
                       "https://verifier.example.com:8443"};
    LastVerdict verdict;
    verdict.verdict = protocol::Verdict::NonCompliant;
    verdict.appraisedAt = at("2026-11-24T16:05:01Z");
    verdict.failingChecks = {{"firewall", protocol::CheckOutcome::Fail,
                              "Inbound IPv4 and IPv6 traffic is not filtered",
                              "Turn on a host firewall: `sudo ufw enable`"}};
    verdict.passingChecks = {
        {"os_version", protocol::CheckOutcome::Pass, "Debian 12.8 meets the minimum 12.0", ""}};
    status.lastVerdict = verdict;
    status.lastReportAt = at("2026-11-24T16:05:00Z");
    status.nextReportAt = at("2026-11-24T16:20:01Z");
    status.verifierReachable = true;
    return status;
}

// The same device after the firewall was turned on: compliant, with a token.
inline protocol::ipc::Status compliantStatus()
{
    auto status = nonCompliantStatus();
    status.state = protocol::ipc::AgentState::Compliant;
    status.reason = "";
    status.lastVerdict->verdict = protocol::Verdict::Compliant;
    status.lastVerdict->appraisedAt = at("2026-11-24T16:06:31Z");
    status.lastVerdict->failingChecks.clear();
    status.lastVerdict->passingChecks.push_back(
        {"firewall", protocol::CheckOutcome::Pass, "Inbound traffic is filtered (nftables)", ""});
    status.lastReportAt = at("2026-11-24T16:06:30Z");
    status.nextReportAt = at("2026-11-24T16:21:31Z");
    status.tokenExpiresAt = at("2026-11-24T16:11:32Z");
    return status;
}

inline protocol::ipc::Status notEnrolledStatus()
{
    protocol::ipc::Status status;
    status.state = protocol::ipc::AgentState::NotEnrolled;
    return status;
}

inline std::string responseLine(const nlohmann::json &id, const nlohmann::json &result)
{
    return protocol::ipc::toLine({{"v", 1}, {"id", id}, {"result", result}});
}

inline std::string errorLine(const nlohmann::json &id, protocol::ipc::ErrorCode code,
                             const std::string &message)
{
    return protocol::ipc::toLine(
        {{"v", 1},
         {"id", id},
         {"error", {{"code", protocol::ipc::errorCodeName(code)}, {"message", message}}}});
}

inline std::string eventLine(const protocol::ipc::Status &status)
{
    return protocol::ipc::toLine(protocol::ipc::Event{status}.toJson());
}

class ScriptedVigild : public QObject
{
public:
    ScriptedVigild(const QString &path, Script script) : m_script(std::move(script))
    {
        QLocalServer::removeServer(path);
        m_server.setSocketOptions(QLocalServer::WorldAccessOption);
        if (!m_server.listen(path))
            qFatal("cannot listen on %s", qPrintable(path));
        connect(&m_server, &QLocalServer::newConnection, this, [this] {
            while (QLocalSocket *socket = m_server.nextPendingConnection()) {
                ++m_connections;
                connect(socket, &QLocalSocket::readyRead, this, [this, socket] { read(socket); });
                connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }

    int connections() const { return m_connections; }
    // Every request line received so far, in order.
    const std::vector<std::string> &lines() const { return m_lines; }

private:
    void read(QLocalSocket *socket)
    {
        while (socket->canReadLine()) {
            QByteArray line = socket->readLine();
            line.chop(1);
            m_lines.push_back(line.toStdString());
            const auto request = nlohmann::json::parse(line.toStdString(), nullptr, false);
            const Reply reply = m_script(request.is_discarded() ? nlohmann::json() : request);
            socket->write(reply.bytes.data(), static_cast<qint64>(reply.bytes.size()));
            if (reply.close) {
                socket->flush();
                socket->disconnectFromServer();
                return;
            }
        }
    }

    QLocalServer m_server{this};
    Script m_script;
    int m_connections = 0;
    std::vector<std::string> m_lines;
};

// The stand-in on a thread of its own, for a child process the test blocks on.
class ScriptedVigildThread
{
public:
    ScriptedVigildThread(const QString &path, Script script)
        : m_vigild(new ScriptedVigild(path, std::move(script)))
    {
        m_vigild->moveToThread(&m_thread);
        m_thread.start();
    }
    ~ScriptedVigildThread()
    {
        QMetaObject::invokeMethod(
            m_vigild, [vigild = m_vigild] { delete vigild; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }
    ScriptedVigildThread(const ScriptedVigildThread &) = delete;
    ScriptedVigildThread &operator=(const ScriptedVigildThread &) = delete;

private:
    QThread m_thread;
    ScriptedVigild *m_vigild;
};

} // namespace vigil::test

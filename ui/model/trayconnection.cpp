#include "ui/model/trayconnection.h"

#include "protocol/ipc/envelope.h"
#include "protocol/ipc/request.h"

#include <QLoggingCategory>
#include <algorithm>
#include <exception>
#include <utility>

namespace vigil::ui {

Q_LOGGING_CATEGORY(lcTray, "vigil.tray")

using ipcclient::CallError;
using protocol::ipc::ErrorCode;
using protocol::ipc::Method;
using protocol::ipc::Request;
using protocol::ipc::Response;
using protocol::ipc::Status;

TrayConnection::TrayConnection(QString socketPath, TrayConnectionTimings timings, QObject *parent)
    : QObject(parent), m_socketPath(std::move(socketPath)), m_timings(timings),
      m_retryDelay(timings.firstRetry)
{
    m_retryTimer.setSingleShot(true);
    m_answerTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &TrayConnection::connectNow);
    connect(&m_answerTimer, &QTimer::timeout, this,
            [this] { lose("vigild did not answer subscribe in time"); });
    connect(&m_client, &ipcclient::VigildClient::connected, this, &TrayConnection::onConnected);
    connect(&m_client, &ipcclient::VigildClient::responseReceived, this,
            &TrayConnection::onResponse);
    connect(&m_client, &ipcclient::VigildClient::eventReceived, this, &TrayConnection::onEvent);
    connect(&m_client, &ipcclient::VigildClient::failed, this, &TrayConnection::onFailed);
    connect(&m_client, &ipcclient::VigildClient::promptReceived, this,
            [this](const protocol::ipc::Prompt &prompt) {
                if (m_subscribed)
                    Q_EMIT promptReceived(prompt);
            });
    connect(&m_client, &ipcclient::VigildClient::promptClosed, this, [this](const std::string &id) {
        if (m_subscribed)
            Q_EMIT promptClosed(id);
    });
}

TrayConnection::~TrayConnection()
{
    m_running = false;
    m_client.close();
}

void TrayConnection::start()
{
    if (m_running)
        return;
    m_running = true;
    connectNow();
}

void TrayConnection::stop()
{
    m_running = false;
    m_retryTimer.stop();
    m_answerTimer.stop();
    m_client.close();
    m_subscribeId.reset();
    m_reportId.reset();
    m_enrollId.reset();
    m_subscribed = false;
    m_announcedDown = false; // a later start() says "not running" again when it fails
    failCalls("the tray stopped its connection to vigild");
}

void TrayConnection::connectNow()
{
    if (!m_running)
        return;
    // A failure may be signalled before this returns; lose() then arms the next attempt.
    m_client.connectToServer(m_socketPath);
}

void TrayConnection::onConnected()
{
    Request request;
    request.method = Method::Subscribe;
    m_subscribeId = m_client.send(request);
    m_answerTimer.start(m_timings.answerTimeout);
}

void TrayConnection::onResponse(const Response &response)
{
    // An answer without an id is vigild's word on a line it could not read: ours, the subscribe.
    if (m_subscribeId && (!response.id || *response.id == *m_subscribeId)) {
        m_answerTimer.stop();
        m_subscribeId.reset();
        if (response.error) {
            lose("vigild refused subscribe: " + response.error->message);
            return;
        }
        std::optional<Status> status;
        try {
            status = Status::fromJson(response.result, "/result");
        } catch (const std::exception &e) {
            lose(std::string("vigild's status is not readable: ") + e.what());
            return;
        }
        qCInfo(lcTray, "subscribed to vigild at %s", qPrintable(m_socketPath));
        m_retryDelay = m_timings.firstRetry;
        m_announcedDown = false;
        m_subscribed = true;
        Q_EMIT subscribedChanged(true);
        setStatus(status);
        return;
    }
    if (!response.id)
        return;
    if (m_reportId && *response.id == *m_reportId) {
        finishCheck(actionResult(response));
    } else if (m_enrollId && *response.id == *m_enrollId) {
        finishEnroll(actionResult(response));
    } else if (const auto *id = std::get_if<std::int64_t>(&*response.id)) {
        if (auto done = m_calls.take(*id))
            done({response, false});
    }
}

ActionResult TrayConnection::actionResult(const Response &response)
{
    using Outcome = ActionResult::Outcome;
    ActionResult result;
    if (response.error) {
        result.message = response.error->message;
        switch (response.error->code) {
        case ErrorCode::PermissionDenied:
            result.outcome = Outcome::PermissionDenied;
            break;
        case ErrorCode::NotEnrolled:
            result.outcome = Outcome::NotEnrolled;
            break;
        case ErrorCode::Unavailable:
            result.outcome = Outcome::Unavailable;
            break;
        default:
            result.outcome = Outcome::Failed;
            break;
        }
        return result;
    }
    try {
        result.status = Status::fromJson(response.result, "/result");
        result.outcome = Outcome::Succeeded;
    } catch (const std::exception &e) {
        result.outcome = Outcome::Failed;
        result.message = std::string("vigild's status is not readable: ") + e.what();
    }
    // The state event usually comes first with the same status; this one is never older.
    if (result.status)
        setStatus(result.status);
    return result;
}

void TrayConnection::onEvent(const protocol::ipc::Event &event)
{
    if (m_subscribed)
        setStatus(event.status);
}

void TrayConnection::onFailed(const CallError &error)
{
    lose(error.what());
}

void TrayConnection::lose(const std::string &why)
{
    m_answerTimer.stop();
    // After failed() the client has already let the socket go; closing it again from inside
    // its own signal is not needed.
    if (m_client.isConnected())
        m_client.close();
    m_subscribeId.reset();
    if (m_subscribed) {
        m_subscribed = false;
        Q_EMIT subscribedChanged(false);
    }
    if (m_reportId)
        finishCheck({ActionResult::Outcome::ServiceNotRunning, why, std::nullopt});
    if (m_enrollId)
        finishEnroll({ActionResult::Outcome::ServiceNotRunning, why, std::nullopt});
    failCalls(why);
    if (!m_announcedDown) {
        qCWarning(lcTray, "vigild is not reachable: %s", why.c_str());
        m_announcedDown = true;
        setStatus(std::nullopt);
    }
    if (!m_running)
        return;
    m_retryTimer.start(m_retryDelay);
    m_retryDelay = std::min(m_retryDelay * 2, m_timings.maxRetry);
}

void TrayConnection::setStatus(const std::optional<Status> &status)
{
    m_status = status;
    Q_EMIT statusChanged(m_status);
}

void TrayConnection::checkNow()
{
    if (m_reportId)
        return;
    if (!m_subscribed || !m_client.isConnected()) {
        Q_EMIT checkFinished({ActionResult::Outcome::ServiceNotRunning,
                              "not connected to vigild at " + m_socketPath.toStdString(),
                              std::nullopt});
        return;
    }
    Request request;
    request.method = Method::Report;
    m_reportId = m_client.send(request);
    Q_EMIT checkRunningChanged(true);
}

void TrayConnection::finishCheck(ActionResult result)
{
    m_reportId.reset();
    Q_EMIT checkRunningChanged(false);
    Q_EMIT checkFinished(result);
}

void TrayConnection::enroll(const std::string &token)
{
    if (m_enrollId) {
        Q_EMIT enrollFinished(
            {ActionResult::Outcome::Failed, "an enrollment is already running", std::nullopt});
        return;
    }
    if (!m_subscribed || !m_client.isConnected()) {
        Q_EMIT enrollFinished({ActionResult::Outcome::ServiceNotRunning,
                               "not connected to vigild at " + m_socketPath.toStdString(),
                               std::nullopt});
        return;
    }
    Request request;
    request.method = Method::Enroll;
    request.params = protocol::ipc::EnrollParams{token};
    m_enrollId = m_client.send(request);
}

void TrayConnection::finishEnroll(ActionResult result)
{
    m_enrollId.reset();
    Q_EMIT enrollFinished(result);
}

void TrayConnection::call(Request request, CallDone done)
{
    if (!m_subscribed || !m_client.isConnected()) {
        const std::string why = "not connected to vigild at " + m_socketPath.toStdString();
        // Later, as promised: the caller may not be ready for an answer inside its own call.
        QTimer::singleShot(0, this, [done = std::move(done), why] {
            Response response;
            response.error = protocol::ipc::Error{ErrorCode::Internal, why, {}};
            done({response, true});
        });
        return;
    }
    const auto id = m_client.send(std::move(request));
    m_calls.insert(std::get<std::int64_t>(id), std::move(done));
}

void TrayConnection::failCalls(const std::string &why)
{
    // Taken first: a callback may call() again, which must not land in the map being emptied.
    const auto calls = std::exchange(m_calls, {});
    for (const auto &done : calls) {
        Response response;
        response.error = protocol::ipc::Error{ErrorCode::Internal, why, {}};
        done({response, true});
    }
}

} // namespace vigil::ui

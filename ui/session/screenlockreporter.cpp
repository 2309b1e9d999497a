#include "ui/session/screenlockreporter.h"

#include "app/ipcclient/vigildclient.h"
#include "posture/collectors/screenlockcollector.h"
#include "posture/host/changewatch.h"
#include "posture/host/host.h"
#include "posture/postureengine.h"
#include "protocol/ipc/request.h"

#include <QSocketNotifier>
#include <utility>

namespace vigil::ui {

namespace {

// What vigild compares: the time a collection took is no change.
nlohmann::json comparable(const posture::CheckResult &result)
{
    nlohmann::json json = result.toJson();
    json.erase("duration_ms");
    return json;
}

// Everything ScreenLockCollector reads, as directories where the file is replaced by rename:
// dconf's system and user databases (gsettings), the KDE config cascade (kscreenlockerrc in
// /etc/xdg and the user's config directory) and xfce4-screensaver's xfconf channel. The user's
// config directory also sees dconf/ and xfce4/ appear; a path that does not exist yet is
// picked up by ChangeWatch at the next event.
std::vector<std::filesystem::path> watchedPaths(const posture::Host &host)
{
    std::vector<std::filesystem::path> paths{host.fs().hostPath("/etc/dconf/db"),
                                             host.fs().hostPath("/etc/xdg")};
    std::optional<std::string> config;
    if (const auto xdg = host.environment("XDG_CONFIG_HOME"); xdg && xdg->starts_with('/'))
        config = *xdg;
    else if (const auto home = host.home())
        config = *home + "/.config";
    if (config)
        for (const char *below : {"", "/dconf", "/xfce4/xfconf/xfce-perchannel-xml"})
            paths.push_back(host.fs().hostPath(*config + below));
    return paths;
}

} // namespace

ScreenLockReporter::ScreenLockReporter(QString socketPath, QObject *parent)
    : ScreenLockReporter(std::move(socketPath),
                         std::make_shared<const posture::Host>(posture::Host::local()), parent)
{
}

ScreenLockReporter::ScreenLockReporter(QString socketPath,
                                       std::shared_ptr<const posture::Host> host, QObject *parent)
    : QObject(parent), m_socketPath(std::move(socketPath)), m_host(std::move(host)),
      m_engine(std::make_unique<posture::PostureEngine>(
          m_host,
          std::vector<std::shared_ptr<posture::Collector>>{
              std::make_shared<posture::ScreenLockCollector>()})),
      m_threadContext(new QObject)
{
    m_thread.setObjectName(QStringLiteral("vigil-tray-screenlock"));
    m_threadContext->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_threadContext, &QObject::deleteLater);
    m_thread.start();
    m_settle.setSingleShot(true);
    m_settle.setInterval(settleTime);
    connect(&m_settle, &QTimer::timeout, this, &ScreenLockReporter::collect);
    m_answerTimer.setSingleShot(true);
    m_answerTimer.setInterval(answerTimeout);
    connect(&m_answerTimer, &QTimer::timeout, this, [this] {
        finishSending(
            QStringLiteral("vigild did not answer within %1 s").arg(answerTimeout.count() / 1000));
    });
}

ScreenLockReporter::~ScreenLockReporter()
{
    // The collection under way finishes first: it uses the engine, and posts back to this.
    m_thread.quit();
    m_thread.wait();
    // Before the watch closes the descriptor it listens on.
    delete m_notifier;
}

void ScreenLockReporter::start()
{
    if (!m_watch)
        watchSettings();
    m_sendCollected = true;
    collect();
}

void ScreenLockReporter::resend()
{
    if (m_last) {
        send(*m_last);
        return;
    }
    m_sendCollected = true;
    collect();
}

void ScreenLockReporter::watchSettings()
{
    m_watch = std::make_unique<posture::ChangeWatch>(watchedPaths(*m_host));
    if (m_watch->descriptor() < 0) {
        Q_EMIT failed(QStringLiteral("Changes of the screen-lock settings go unnoticed: inotify "
                                     "is not available."));
        return;
    }
    m_notifier = new QSocketNotifier(m_watch->descriptor(), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &ScreenLockReporter::settingsChanged);
}

void ScreenLockReporter::settingsChanged()
{
    // Drains the queue; each event restarts the quiet period.
    if (m_watch->changedSinceLastCheck())
        m_settle.start();
}

void ScreenLockReporter::collect()
{
    if (m_collecting) {
        m_collectAgain = true;
        return;
    }
    m_collecting = true;
    posture::PostureEngine *engine = m_engine.get();
    QMetaObject::invokeMethod(m_threadContext, [this, engine] {
        const auto snapshot = engine->collect();
        const auto *found = snapshot.find(posture::ScreenLockCollector::checkId);
        posture::CheckResult result =
            found
                ? *found
                : posture::CheckResult::unknown(std::string(posture::ScreenLockCollector::checkId),
                                                "the screen-lock collector gave no result");
        QMetaObject::invokeMethod(
            this, [this, result = std::move(result)] { collected(result); }, Qt::QueuedConnection);
    });
}

void ScreenLockReporter::collected(posture::CheckResult result)
{
    m_collecting = false;
    const auto &reference = m_inFlight ? m_inFlight : m_lastSent;
    const bool changed = !reference || comparable(*reference) != comparable(result);
    m_last = std::move(result);
    if (std::exchange(m_sendCollected, false) || changed)
        send(*m_last);
    if (std::exchange(m_collectAgain, false))
        collect();
}

void ScreenLockReporter::send(const posture::CheckResult &result)
{
    if (m_client) {
        m_sendAgain = true;
        return;
    }
    m_inFlight = result;
    protocol::ipc::Request request;
    request.method = protocol::ipc::Method::SessionPosture;
    request.params = protocol::ipc::SessionPostureParams{result.toJson()};
    m_client = new ipcclient::VigildClient(this);
    connect(m_client, &ipcclient::VigildClient::connected, this,
            [this, request] { m_client->send(request); });
    connect(m_client, &ipcclient::VigildClient::responseReceived, this,
            [this](const protocol::ipc::Response &response) {
                if (response.error) {
                    finishSending(QString::fromStdString(response.error->message));
                    return;
                }
                m_lastSent = m_inFlight;
                finishSending(std::nullopt);
            });
    connect(m_client, &ipcclient::VigildClient::failed, this,
            [this](const ipcclient::CallError &error) {
                finishSending(QString::fromUtf8(error.what()));
            });
    m_answerTimer.start();
    m_client->connectToServer(m_socketPath);
}

void ScreenLockReporter::finishSending(const std::optional<QString> &failure)
{
    m_answerTimer.stop();
    m_client->disconnect(this);
    m_client->close();
    m_client->deleteLater();
    m_client = nullptr;
    const posture::CheckResult result = *std::exchange(m_inFlight, std::nullopt);
    if (failure)
        Q_EMIT failed(QStringLiteral("Cannot hand the screen lock to vigild: %1").arg(*failure));
    else
        Q_EMIT sent(result);
    if (std::exchange(m_sendAgain, false) && m_last)
        send(*m_last);
}

} // namespace vigil::ui

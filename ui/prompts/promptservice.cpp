#include "ui/prompts/promptservice.h"

#include <QEvent>
#include <QLoggingCategory>

namespace vigil::ui {

Q_DECLARE_LOGGING_CATEGORY(lcTray)

namespace {

// Tells the service when the person closes a prompt's window.
class CloseWatcher : public QObject
{
public:
    CloseWatcher(QObject *parent, std::function<void()> closed)
        : QObject(parent), m_closed(std::move(closed))
    {
    }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() == QEvent::Close)
            m_closed();
        return QObject::eventFilter(watched, event);
    }

private:
    std::function<void()> m_closed;
};

} // namespace

PromptService::~PromptService()
{
    const auto open = m_open;
    for (const auto &window : open)
        delete window.data();
}

void PromptService::registerPrompt(const QString &kind, Factory factory)
{
    m_factories.insert(kind, std::move(factory));
}

bool PromptService::open(const PromptRequest &request)
{
    if (QWidget *existing = window(request.id)) {
        existing->show();
        existing->raise();
        existing->activateWindow();
        return true;
    }
    const auto factory = m_factories.constFind(request.kind);
    if (factory == m_factories.constEnd()) {
        qCWarning(lcTray, "vigild asked for a prompt of kind \"%s\", which this tray does not have",
                  qPrintable(request.kind));
        return false;
    }
    QWidget *prompt = (*factory)(request, *this);
    if (!prompt)
        return false;
    m_open.insert(request.id, prompt);
    const QString id = request.id;
    prompt->installEventFilter(new CloseWatcher(prompt, [this, id] { dismiss(id); }));
    prompt->show();
    prompt->raise();
    prompt->activateWindow();
    return true;
}

void PromptService::answer(const QString &id, const nlohmann::json &answer)
{
    if (!m_open.contains(id))
        return; // answered or withdrawn already: one answer per request
    forget(id);
    Q_EMIT answered(id, answer);
}

void PromptService::withdraw(const QString &id)
{
    forget(id);
}

void PromptService::dismiss(const QString &id)
{
    if (!m_open.contains(id))
        return;
    forget(id);
    Q_EMIT dismissed(id);
}

QStringList PromptService::openIds() const
{
    QStringList ids;
    for (auto it = m_open.constBegin(); it != m_open.constEnd(); ++it)
        if (it.value())
            ids.append(it.key());
    ids.sort();
    return ids;
}

QWidget *PromptService::window(const QString &id) const
{
    return m_open.value(id).data();
}

void PromptService::forget(const QString &id)
{
    QPointer<QWidget> prompt = m_open.take(id);
    if (prompt) {
        prompt->hide();
        prompt->deleteLater();
    }
}

} // namespace vigil::ui

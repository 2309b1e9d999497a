#pragma once

// Where vigild's requests for the person at the desktop open: PIN entry, TOTP setup with a QR
// code and sign-in approvals (the MFA issue) register a prompt kind here, and the tray opens one
// when vigild asks. A prompt is a window that answers once (answer()) or is dismissed; one per
// request id, so a request vigild repeats raises the open window instead of stacking another.

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QWidget>
#include <functional>
#include <nlohmann/json.hpp>

namespace vigil::ui {

struct PromptRequest
{
    QString kind; // "pin", "totp_setup", …: the registered factory that draws it
    QString id;   // vigild's id of the request, echoed in the answer
    nlohmann::json data = nlohmann::json::object(); // what the prompt shows, per kind
};

class PromptService : public QObject
{
    Q_OBJECT

public:
    // Makes the window of a request; the service owns it from then on and deletes it once
    // answered or closed.
    using Factory = std::function<QWidget *(const PromptRequest &request, PromptService &service)>;

    using QObject::QObject;
    ~PromptService() override;

    void registerPrompt(const QString &kind, Factory factory);
    bool hasPrompt(const QString &kind) const { return m_factories.contains(kind); }

    // Opens the request's window, or raises it when that id is open already. False, with a
    // warning in the log, for a kind nothing registered (a newer vigild than this tray).
    bool open(const PromptRequest &request);
    // A prompt's answer: answered(id, answer), then its window closes.
    void answer(const QString &id, const nlohmann::json &answer);
    // vigild withdrew the request (answered elsewhere, timed out): the window closes, unanswered.
    void withdraw(const QString &id);
    // The prompt itself was turned down (its Cancel button, Escape): as when the person closes
    // its window, dismissed(id), then the window closes.
    void dismiss(const QString &id);

    QStringList openIds() const;
    QWidget *window(const QString &id) const;

Q_SIGNALS:
    void answered(const QString &id, const nlohmann::json &answer);
    // The person closed the window without answering.
    void dismissed(const QString &id);

private:
    void forget(const QString &id);

    QHash<QString, Factory> m_factories;
    QHash<QString, QPointer<QWidget>> m_open;
};

} // namespace vigil::ui

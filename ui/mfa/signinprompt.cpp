#include "ui/mfa/signinprompt.h"

#include "core/clock.h"
#include "ui/mfa/mfainput.h"
#include "ui/model/statusdetails.h"

#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QStackedWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace vigil::ui {

namespace {

// lupdate reads this file without the class's header: a context it can name (plurals only).
struct Text
{
    Q_DECLARE_TR_FUNCTIONS(vigil::ui::SignInPrompt)
};

class FrozenClock final : public Clock
{
public:
    explicit FrozenClock(std::chrono::system_clock::time_point at) : m_at(at) {}
    std::chrono::system_clock::time_point now() const override { return m_at; }

private:
    std::chrono::system_clock::time_point m_at;
};

// A free function: in a member, lupdate names the context without the namespace.
QString wrongPinText(int attemptsLeft)
{
    return Text::tr("Wrong PIN. %n attempt(s) left before the TPM locks your key.", nullptr,
                    attemptsLeft);
}

std::chrono::system_clock::time_point toTimePoint(const QDateTime &time)
{
    return std::chrono::system_clock::time_point(
        std::chrono::milliseconds(time.toMSecsSinceEpoch()));
}

QString stringMember(const nlohmann::json &data, const char *name)
{
    const auto it = data.find(name);
    return it != data.end() && it->is_string() ? QString::fromStdString(it->get<std::string>())
                                               : QString();
}

void wipe(QLineEdit *field)
{
    // QLineEdit keeps no undo history of a password field; its text is all there is.
    field->clear();
}

} // namespace

SignInRequest SignInRequest::fromJson(const nlohmann::json &data)
{
    SignInRequest request;
    if (!data.is_object())
        return request;
    if (const QString reason = stringMember(data, "reason"); !reason.isEmpty())
        request.reason = reason;
    if (const auto factors = data.find("factors"); factors != data.end() && factors->is_array()) {
        request.pinAccepted = false;
        request.otpAccepted = false;
        for (const auto &factor : *factors) {
            request.pinAccepted = request.pinAccepted || factor == "pin";
            request.otpAccepted = request.otpAccepted || factor == "otp";
        }
        if (!request.pinAccepted && !request.otpAccepted)
            request.pinAccepted = request.otpAccepted = true; // none we know: offer both
    }
    if (const QString expires = stringMember(data, "expires_at"); !expires.isEmpty())
        request.expiresAt = QDateTime::fromString(expires, Qt::ISODate);
    return request;
}

SignInPrompt::SignInPrompt(const SignInRequest &request, MfaBackend &backend, const Clock &clock,
                           QWidget *parent)
    : QDialog(parent), m_backend(backend), m_clock(clock), m_request(request),
      m_reason(new QLabel(this)), m_stack(new QStackedWidget(this)), m_pin(new QLineEdit(this)),
      m_code(new QLineEdit(this)), m_switch(new QPushButton(this)), m_message(new QLabel(this)),
      m_busyBar(new QProgressBar(this)), m_signIn(new QPushButton(tr("&Sign in"), this)),
      m_unlockTimer(new QTimer(this))
{
    setWindowTitle(tr("Vigil: sign in"));
    auto *heading = new QLabel(tr("Sign in"), this);
    QFont headingFont = heading->font();
    headingFont.setPointSizeF(headingFont.pointSizeF() * 1.3);
    headingFont.setBold(true);
    heading->setFont(headingFont);
    m_reason->setWordWrap(true);
    m_reason->setText(reasonText());
    m_reason->setAccessibleName(tr("Why Vigil asks"));

    m_pin->setEchoMode(QLineEdit::Password);
    m_pin->setAccessibleName(tr("PIN"));
    m_code->setAccessibleName(tr("Code from your authenticator app"));
    m_code->setPlaceholderText(QStringLiteral("123 456"));
    m_code->setMaxLength(7);
    m_code->setValidator(
        new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9 ]{0,7}")), this));
    QFont codeFont = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    codeFont.setPointSizeF(codeFont.pointSizeF() * 1.3);
    m_code->setFont(codeFont);
    for (QLineEdit *field : {m_pin, m_code})
        connect(field, &QLineEdit::textChanged, this, [this] {
            if (!m_pinLocked || m_factor == Factor::Code)
                showMessage({});
            updateButtons();
        });

    auto *pinPage = new QWidget(m_stack);
    auto *pinForm = new QFormLayout(pinPage);
    pinForm->setContentsMargins(0, 0, 0, 0);
    pinForm->addRow(tr("&PIN:"), m_pin);
    auto *codePage = new QWidget(m_stack);
    auto *codeForm = new QFormLayout(codePage);
    codeForm->setContentsMargins(0, 0, 0, 0);
    codeForm->addRow(tr("&Code:"), m_code);
    m_stack->addWidget(pinPage);
    m_stack->addWidget(codePage);

    m_switch->setFlat(true);
    m_switch->setCursor(Qt::PointingHandCursor);
    m_switch->setStyleSheet(QStringLiteral("text-align: left; text-decoration: underline;"));
    m_switch->setVisible(m_request.pinAccepted && m_request.otpAccepted);
    connect(m_switch, &QPushButton::clicked, this,
            [this] { setFactor(m_factor == Factor::Pin ? Factor::Code : Factor::Pin); });

    m_message->setWordWrap(true);
    m_message->setAccessibleName(tr("Sign-in result"));
    m_message->hide();
    m_busyBar->setRange(0, 0);
    m_busyBar->setTextVisible(false);
    m_busyBar->setMaximumHeight(8);
    m_busyBar->setAccessibleName(tr("Signing in"));
    m_busyBar->hide();

    m_signIn->setDefault(true);
    m_signIn->setAccessibleName(tr("Sign in"));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Cancel)->setAccessibleName(tr("Cancel"));
    buttons->addButton(m_signIn, QDialogButtonBox::AcceptRole);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_signIn, &QPushButton::clicked, this, &SignInPrompt::signIn);

    m_unlockTimer->setSingleShot(true);
    connect(m_unlockTimer, &QTimer::timeout, this, [this] {
        m_pinLocked = false;
        if (m_factor == Factor::Pin)
            showMessage(tr("Your key is unlocked again: enter your PIN."), false);
        setBusy(m_busy);
    });

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(heading);
    layout->addWidget(m_reason);
    layout->addSpacing(6);
    layout->addWidget(m_stack);
    layout->addWidget(m_switch, 0, Qt::AlignLeft);
    layout->addWidget(m_busyBar);
    layout->addWidget(m_message);
    layout->addStretch(1);
    layout->addWidget(buttons);
    setMinimumWidth(440);

    setFactor(m_request.pinAccepted ? Factor::Pin : Factor::Code);
}

SignInPrompt::~SignInPrompt()
{
    wipe(m_pin);
}

QString SignInPrompt::reasonText() const
{
    const QString &reason = m_request.reason;
    if (reason == QLatin1String("unlock"))
        return tr("The screen was unlocked. Sign in again to keep your access.");
    if (reason == QLatin1String("requested")) // "Sign in…" from the tray's menu
        return tr("Sign in to get your access.");
    if (reason == QLatin1String("resume"))
        return tr("This computer woke from sleep. Sign in again to keep your access.");
    if (reason == QLatin1String("expiring")) {
        if (!m_request.expiresAt.isValid())
            return tr("Your sign-in ends soon. Sign in again now to keep your access.");
        return tr("Your sign-in ends at %1. Sign in again now to keep your access.")
            .arg(describeTime(toTimePoint(m_request.expiresAt), m_clock));
    }
    return tr("Your sign-in has expired. Sign in again to get your access back.");
}

QString SignInPrompt::messageText() const
{
    return m_message->isHidden() ? QString() : m_message->text();
}

void SignInPrompt::setFactor(Factor factor)
{
    if (factor == Factor::Pin && !m_request.pinAccepted)
        factor = Factor::Code;
    if (factor == Factor::Code && !m_request.otpAccepted)
        factor = Factor::Pin;
    m_factor = factor;
    m_stack->setCurrentIndex(factor == Factor::Pin ? 0 : 1);
    m_switch->setText(factor == Factor::Pin ? tr("&Use a code from your authenticator app instead")
                                            : tr("&Use your PIN instead"));
    m_switch->setAccessibleName(m_switch->text().remove(QLatin1Char('&')));
    (factor == Factor::Pin ? m_pin : m_code)->setFocus();
    updateButtons();
}

void SignInPrompt::updateButtons()
{
    const bool pinUsable = !m_pinLocked;
    m_pin->setEnabled(!m_busy && pinUsable);
    m_code->setEnabled(!m_busy);
    m_switch->setEnabled(!m_busy);
    const bool ready = m_factor == Factor::Pin
                           ? pinUsable && checkPin(m_pin->text()) == PinCheck::Ok
                           : !normalizeTotpCode(m_code->text()).isEmpty();
    m_signIn->setEnabled(!m_busy && ready);
    m_signIn->setText(m_busy ? tr("Signing in…") : tr("&Sign in"));
}

void SignInPrompt::setBusy(bool busy)
{
    m_busy = busy;
    m_busyBar->setVisible(busy);
    updateButtons();
}

void SignInPrompt::showMessage(const QString &text, bool isError)
{
    m_message->setText(text);
    m_message->setStyleSheet(isError ? QStringLiteral("color: #b31d28; font-weight: bold;")
                                     : QString());
    m_message->setVisible(!text.isEmpty());
    // A long message wraps onto more lines: the dialog grows to show all of them.
    layout()->activate();
    const int needed = layout()->hasHeightForWidth() ? layout()->totalHeightForWidth(width())
                                                     : sizeHint().height();
    if (needed > height())
        resize(width(), needed);
}

void SignInPrompt::signIn()
{
    if (m_busy || !m_signIn->isEnabled())
        return;
    std::optional<QString> pin;
    std::optional<QString> otp;
    if (m_factor == Factor::Pin)
        pin = m_pin->text();
    else
        otp = normalizeTotpCode(m_code->text());
    showMessage({});
    setBusy(true);
    m_backend.signIn(pin, otp,
                     [prompt = QPointer<SignInPrompt>(this)](const MfaReply<MfaStatus> &reply) {
                         if (!prompt)
                             return; // withdrawn meanwhile
                         prompt->setBusy(false);
                         if (reply.ok()) {
                             Q_EMIT prompt->signedIn(reply.value);
                             if (prompt)
                                 prompt->accept();
                             return;
                         }
                         prompt->handleError(*reply.error);
                     });
    if (pin)
        pin->fill(QChar(0));
}

void SignInPrompt::handleError(const MfaError &error)
{
    const bool wasPin = m_factor == Factor::Pin;
    wipe(m_pin);
    m_code->clear();
    if (error.code != mfaerror::wrongPin && error.code != mfaerror::pinLocked) {
        showMessage(describeMfaError(error));
        (wasPin ? m_pin : m_code)->setFocus();
        return;
    }
    // The counts are in mfa_status, not in the error (docs/ipc.md).
    showMessage(describeMfaError(error));
    setBusy(true);
    m_backend.status([prompt = QPointer<SignInPrompt>(this),
                      code = error.code](const MfaReply<MfaStatus> &reply) {
        if (!prompt)
            return;
        prompt->setBusy(false);
        if (!reply.ok())
            return; // the error's own words stay
        const MfaStatus &status = reply.value;
        if (status.pinLockedOutSeconds && *status.pinLockedOutSeconds > 0) {
            prompt->lockPin(*status.pinLockedOutSeconds);
        } else if (code == mfaerror::wrongPin && status.pinAttemptsLeft) {
            prompt->showAttemptsLeft(*status.pinAttemptsLeft);
        }
    });
}

void SignInPrompt::showAttemptsLeft(int left)
{
    showMessage(wrongPinText(left));
    m_pin->setFocus();
}

void SignInPrompt::lockPin(int seconds)
{
    m_pinLocked = true;
    // One instant for "until" and "in …": read twice, the clock would make 600 s "9 minutes".
    const FrozenClock now(m_clock.now());
    const QString when = describeTime(now.now() + std::chrono::seconds(seconds), now);
    if (m_request.otpAccepted) {
        showMessage(tr("Too many wrong PINs: the TPM has locked your key until %1. Use a code "
                       "from your authenticator app instead, or try your PIN again then.")
                        .arg(when));
        setFactor(Factor::Code);
    } else {
        showMessage(tr("Too many wrong PINs: the TPM has locked your key until %1. Try again "
                       "then.")
                        .arg(when));
    }
    m_unlockTimer->start(std::chrono::seconds(seconds));
    updateButtons();
}

void SignInPrompt::done(int result)
{
    wipe(m_pin);
    m_code->clear();
    QDialog::done(result);
}

void registerSignInPrompt(PromptService &service, MfaBackend &backend, const Clock &clock)
{
    service.registerPrompt(
        QStringLiteral("sign_in"),
        [&backend, &clock](const PromptRequest &request, PromptService &owner) -> QWidget * {
            auto *prompt = new SignInPrompt(SignInRequest::fromJson(request.data), backend, clock);
            const QString id = request.id;
            QObject::connect(prompt, &SignInPrompt::signedIn, &owner, [&owner, id] {
                owner.answer(id, {{"signed_in", true}});
            });
            // Cancel or Escape (closing the window, the service sees by itself).
            QObject::connect(prompt, &QDialog::rejected, &owner,
                             [&owner, id] { owner.dismiss(id); });
            return prompt;
        });
}

} // namespace vigil::ui

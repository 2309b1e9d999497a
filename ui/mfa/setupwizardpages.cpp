#include "ui/mfa/setupwizardpages.h"

#include "ui/mfa/mfainput.h"
#include "ui/mfa/qrcodewidget.h"
#include "ui/mfa/setupwizard.h"
#include "ui/mfa/wizardparts.h"
#include "ui/model/statusdetails.h"

#include <QCheckBox>
#include <QDir>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QVBoxLayout>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vigil::ui {

using namespace wizardparts;

// SetupPage

SetupPage::SetupPage(SetupWizard &wizard)
    : QWizardPage(&wizard), m_wizard(wizard), m_message(new QLabel(this)),
      m_busyBar(new QProgressBar(this))
{
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setAccessibleName(tr("Message"));
    m_message->hide();
    m_busyBar->setRange(0, 0); // running, without a known end
    m_busyBar->setTextVisible(false);
    m_busyBar->setMaximumHeight(8);
    m_busyBar->setAccessibleName(tr("Working"));
    m_busyBar->hide();
}

void SetupPage::finishLayout()
{
    auto *box = qobject_cast<QBoxLayout *>(layout());
    // Next to what it is about, rather than at the far end of the page.
    box->addSpacing(8);
    box->addWidget(m_busyBar);
    box->addWidget(m_message);
    box->addStretch(1);
}

bool SetupPage::isComplete() const
{
    return !m_busy && ready();
}

QString SetupPage::message() const
{
    return m_message->isHidden() ? QString() : m_message->text();
}

void SetupPage::setBusy(bool busy, const QString &what)
{
    m_busy = busy;
    m_busyBar->setVisible(busy);
    if (busy)
        showMessage(what, false);
    else if (m_message->text() == m_busyText)
        showMessage({}); // "Checking…" is over; the answer says what happened
    m_busyText = busy ? what : QString();
    busyChanged(busy);
    Q_EMIT completeChanged(); // the wizard updates its buttons from it
    // Back during a call would leave the answer with nowhere to go.
    if (QAbstractButton *back = m_wizard.button(QWizard::BackButton); back && busy)
        back->setEnabled(false);
}

void SetupPage::showMessage(const QString &text, bool isError)
{
    m_message->setText(text);
    m_message->setStyleSheet(isError ? QStringLiteral("color: #b31d28; font-weight: bold;")
                                     : QString());
    m_message->setVisible(!text.isEmpty());
}

void SetupPage::showError(const MfaError &error)
{
    showMessage(describeMfaError(error));
}

// InviteCodePage

InviteCodePage::InviteCodePage(SetupWizard &wizard)
    : SetupPage(wizard), m_invite(new QLineEdit(this))
{
    setTitle(tr("Your invite code"));
    setSubTitle(tr("Sign-in proves that it is you at this computer, not only that the computer "
                   "is trusted."));
    m_invite->setAccessibleName(tr("Invite code"));
    m_invite->setPlaceholderText(tr("ABCD-EFGH-…"));
    m_invite->setFont(monospace(1.2));
    m_invite->setClearButtonEnabled(true);
    connect(m_invite, &QLineEdit::textChanged, this, [this] {
        showMessage({});
        Q_EMIT completeChanged();
    });
    auto *label = new QLabel(tr("&Invite code:"), this);
    label->setBuddy(m_invite);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(paragraph(tr("Enter the invite code your administrator sent you. It works "
                                   "once and for a limited time."),
                                this));
    layout->addSpacing(8);
    layout->addWidget(label);
    layout->addWidget(m_invite);
    auto *hint = paragraph(tr("Letters and digits, often in groups with dashes. Paste it as it "
                              "came: spaces, dashes and upper or lower case do not matter."),
                           this);
    hint->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(hint);
    finishLayout();
}

bool InviteCodePage::ready() const
{
    return !normalizeInviteCode(m_invite->text()).isEmpty();
}

bool InviteCodePage::validatePage()
{
    const QString code = normalizeInviteCode(m_invite->text());
    if (const QString problem = inviteProblem(code); !problem.isEmpty()) {
        showMessage(problem);
        return false;
    }
    m_wizard.inviteCode = code;
    return true;
}

void InviteCodePage::showRefused(const MfaError &error)
{
    showError(error);
    m_invite->setFocus();
    m_invite->selectAll();
}

// ChoosePinPage

ChoosePinPage::ChoosePinPage(SetupWizard &wizard)
    : SetupPage(wizard), m_pin(new QLineEdit(this)), m_repeat(new QLineEdit(this)),
      m_show(new QCheckBox(tr("S&how PIN"), this)), m_hint(new QLabel(this))
{
    setTitle(tr("Choose a PIN"));
    setSubTitle(tr("Your PIN unlocks a sign-in key that Vigil keeps in this computer's TPM "
                   "chip."));
    setCommitPage(true); // enrolled is enrolled: no way back to the invite
    for (QLineEdit *field : {m_pin, m_repeat}) {
        field->setEchoMode(QLineEdit::Password);
        connect(field, &QLineEdit::textChanged, this, &ChoosePinPage::updateHint);
    }
    m_pin->setAccessibleName(tr("PIN"));
    m_repeat->setAccessibleName(tr("PIN again"));
    m_show->setAccessibleName(tr("Show PIN"));
    connect(m_show, &QCheckBox::toggled, this, [this](bool show) {
        for (QLineEdit *field : {m_pin, m_repeat})
            field->setEchoMode(show ? QLineEdit::Normal : QLineEdit::Password);
    });
    m_hint->setWordWrap(true);
    m_hint->setAccessibleName(tr("PIN check"));

    auto *form = new QFormLayout;
    form->addRow(tr("&PIN:"), m_pin);
    form->addRow(tr("PIN &again:"), m_repeat);
    form->addRow(QString(), m_show);
    form->addRow(QString(), m_hint);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(paragraph(
        tr("Use %1 to %2 characters: letters, digits and symbols all count. Choose one you do "
           "not use elsewhere.")
            .arg(minPinBytes)
            .arg(maxPinBytes),
        this));
    layout->addLayout(form);
    layout->addWidget(paragraph(tr("After too many wrong PINs the TPM locks the key for a while, "
                                   "so that nobody can guess it. Vigil shows how many attempts "
                                   "are left."),
                                this));
    finishLayout();
}

void ChoosePinPage::initializePage()
{
    m_pin->setFocus();
}

void ChoosePinPage::updateHint()
{
    // Quiet until there is something to say: no complaint about the second field while it is
    // still being typed.
    PinCheck check = checkPin(m_pin->text());
    if (check == PinCheck::Ok && !m_repeat->text().isEmpty() &&
        !m_pin->text().startsWith(m_repeat->text()))
        check = PinCheck::Mismatch;
    if (check == PinCheck::Ok && m_repeat->text().size() >= m_pin->text().size())
        check = checkNewPin(m_pin->text(), m_repeat->text());
    m_hint->setText(check == PinCheck::Empty ? QString() : describePinCheck(check));
    showMessage({});
    Q_EMIT completeChanged();
}

bool ChoosePinPage::ready() const
{
    return checkNewPin(m_pin->text(), m_repeat->text()) == PinCheck::Ok;
}

void ChoosePinPage::busyChanged(bool busy)
{
    for (QWidget *field : std::initializer_list<QWidget *>{m_pin, m_repeat, m_show})
        field->setEnabled(!busy);
}

bool ChoosePinPage::validatePage()
{
    if (m_enrollDone)
        return true;
    if (const PinCheck check = checkNewPin(m_pin->text(), m_repeat->text());
        check != PinCheck::Ok) {
        showMessage(describePinCheck(check));
        return false;
    }
    enroll();
    return false; // the answer moves the wizard on
}

void ChoosePinPage::enroll()
{
    setBusy(true, tr("Making your key in the TPM and enrolling it: this takes a few seconds…"));
    QString pin = m_pin->text();
    m_wizard.backend().enroll(
        m_wizard.inviteCode, pin,
        [page = QPointer<ChoosePinPage>(this), pin](const MfaReply<MfaStatus> &reply) mutable {
            if (!page)
                return;
            page->setBusy(false);
            SetupWizard &wizard = page->m_wizard;
            // A PIN that did not work is typed again; one that did is kept by the wizard only.
            page->m_pin->clear();
            page->m_repeat->clear();
            page->m_hint->clear();
            if (!reply.ok()) {
                pin.fill(QChar(0));
                if (reply.error->problemCode() == QLatin1String("invalid_invite")) {
                    wizard.back();
                    if (auto *invite =
                            qobject_cast<InviteCodePage *>(wizard.page(SetupWizard::InvitePage)))
                        invite->showRefused(*reply.error);
                    return;
                }
                page->showError(*reply.error);
                page->m_pin->setFocus();
                return;
            }
            wizard.pin = pin;
            wizard.status = reply.value;
            wizard.enrolled = true;
            wizard.totpActive = reply.value.totp == QLatin1String("active");
            page->m_enrollDone = true;
            wizard.next();
        });
}

} // namespace vigil::ui

#include "ui/mfa/setupwizard.h"

#include "ui/mfa/setupwizardpages.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QMessageBox>
#include <QPushButton>

namespace vigil::ui {

namespace {

// Overwrites a secret's characters before it is released.
void wipe(QString &secret)
{
    secret.fill(QChar(0));
    secret.clear();
}

} // namespace

SetupWizard::SetupWizard(MfaBackend &backend, const Clock &clock, QWidget *parent)
    : QWizard(parent), m_backend(backend), m_clock(clock)
{
    setWindowTitle(tr("Vigil: set up sign-in"));
    setWizardStyle(QWizard::ModernStyle);
    setOption(QWizard::NoBackButtonOnLastPage);
    setOption(QWizard::NoBackButtonOnStartPage);
    setOption(QWizard::NoCancelButtonOnLastPage); // all is done: Finish only
    setPage(InvitePage, new InviteCodePage(*this));
    setPage(PinPage, new ChoosePinPage(*this));
    setPage(TotpPage, new AuthenticatorPage(*this));
    setPage(RecoveryPage, new RecoveryCodesPage(*this));
    setPage(DonePage, new SetupDonePage(*this));
    setStartId(InvitePage);
    setButtonText(QWizard::CommitButton, tr("&Set up"));
    for (const auto which : {QWizard::BackButton, QWizard::NextButton, QWizard::CommitButton,
                             QWizard::FinishButton, QWizard::CancelButton})
        button(which)->setAccessibleName(buttonText(which).remove(QLatin1Char('&')));
    setMinimumSize(640, 520);
}

SetupWizard::~SetupWizard()
{
    wipe(pin);
}

QString SetupWizard::remainingState() const
{
    const auto *page = qobject_cast<const SetupPage *>(currentPage());
    if (!enrolled && page && page->isBusy())
        return tr("Vigil is making your key right now. If that succeeds, your PIN is set up "
                  "even if you stop here; run \"Set up sign-in…\" again to finish.");
    if (!enrolled)
        return tr("Nothing has been set up yet.");
    if (!totpActive)
        return tr("Your PIN is set up, but the authenticator app is not. You can sign in with "
                  "your PIN; run \"Set up sign-in…\" again to add the app.");
    if (currentId() == RecoveryPage)
        return tr("Your PIN and your authenticator app are set up. The recovery codes are shown "
                  "only now: without them a forgotten PIN needs a new invite.");
    return tr("Your PIN and your authenticator app are set up.");
}

void SetupWizard::copyToClipboard(const QString &text)
{
    QGuiApplication::clipboard()->setText(text);
    m_copied.append(text);
}

void SetupWizard::reject()
{
    // Before anything is set up, and on the last page, a cancel loses nothing.
    const auto *page = qobject_cast<const SetupPage *>(currentPage());
    if ((!enrolled && !(page && page->isBusy())) || currentId() == DonePage) {
        QWizard::reject();
        return;
    }
    if (m_cancelQuestion) {
        m_cancelQuestion->raise();
        return;
    }
    // The question in the text too: without a window manager, or on GNOME, no title shows.
    auto *question = new QMessageBox(QMessageBox::Question, tr("Stop setting up sign-in?"),
                                     tr("Stop setting up sign-in?"), QMessageBox::NoButton, this);
    question->setInformativeText(remainingState());
    question->setAttribute(Qt::WA_DeleteOnClose);
    QPushButton *stop = question->addButton(tr("&Stop here"), QMessageBox::DestructiveRole);
    QPushButton *resume = question->addButton(tr("&Continue setting up"), QMessageBox::RejectRole);
    question->setDefaultButton(resume);
    connect(stop, &QPushButton::clicked, this, [this] { QWizard::reject(); });
    m_cancelQuestion = question;
    question->open();
}

void SetupWizard::done(int result)
{
    if (m_cancelQuestion)
        m_cancelQuestion->close();
    wipe(pin);
    for (QString &code : recoveryCodes)
        wipe(code);
    recoveryCodes.clear();
    // What the wizard copied (the secret, the recovery codes) does not outlive it.
    QClipboard *clipboard = QGuiApplication::clipboard();
    if (m_copied.contains(clipboard->text()))
        clipboard->clear();
    m_copied.clear();
    QWizard::done(result);
}

} // namespace vigil::ui

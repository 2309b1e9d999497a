// The later pages of the set-up wizard: the authenticator app, the recovery codes, done.
#include "ui/mfa/mfainput.h"
#include "ui/mfa/qrcodewidget.h"
#include "ui/mfa/setupwizard.h"
#include "ui/mfa/setupwizardpages.h"
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

// AuthenticatorPage

AuthenticatorPage::AuthenticatorPage(SetupWizard &wizard)
    : SetupPage(wizard), m_qr(new QrCodeWidget(this)), m_secret(new QLabel(this)),
      m_copy(new QPushButton(tr("&Copy key"), this)), m_expiry(new QLabel(this)),
      m_code(new QLineEdit(this)), m_retry(new QPushButton(tr("&Make a new QR code"), this))
{
    setTitle(tr("Add your authenticator app"));
    setSubTitle(tr("Codes from an app on your phone let you sign in when you do not have your "
                   "PIN at hand."));
    setCommitPage(true);
    setButtonText(QWizard::CommitButton, tr("&Activate"));
    m_qr->setAccessibleName(tr("QR code for your authenticator app"));
    m_secret->setFont(monospace(1.1));
    m_secret->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_secret->setAccessibleName(tr("Key for manual entry"));
    m_copy->setAccessibleName(tr("Copy key"));
    m_copy->setEnabled(false);
    connect(m_copy, &QPushButton::clicked, this, [this] {
        m_wizard.copyToClipboard(totpSecretOf(m_uri));
        showMessage(tr("The key is on the clipboard."), false);
    });
    m_expiry->setWordWrap(true);
    m_code->setAccessibleName(tr("Code from the app"));
    m_code->setPlaceholderText(QStringLiteral("123 456"));
    m_code->setFont(monospace(1.4));
    m_code->setMaxLength(7); // six digits, as the app shows them ("123 456")
    m_code->setValidator(
        new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9 ]{0,7}")), this));
    m_code->setMaximumWidth(m_code->fontMetrics().horizontalAdvance(QStringLiteral("0000000")) +
                            24);
    connect(m_code, &QLineEdit::textChanged, this, [this] {
        showMessage({});
        Q_EMIT completeChanged();
    });
    m_retry->setAccessibleName(tr("Make a new QR code"));
    m_retry->hide();
    connect(m_retry, &QPushButton::clicked, this, &AuthenticatorPage::begin);

    auto *codeLabel = new QLabel(tr("2. Enter the &6-digit code the app now shows:"), this);
    codeLabel->setBuddy(m_code);
    codeLabel->setWordWrap(true);
    auto *secretRow = new QHBoxLayout;
    secretRow->addWidget(m_secret, 1);
    secretRow->addWidget(m_copy, 0, Qt::AlignTop);
    auto *steps = new QVBoxLayout;
    steps->addWidget(paragraph(tr("1. In your authenticator app (FreeOTP, Aegis, Google "
                                  "Authenticator, …) add an account and scan this QR code."),
                               this));
    steps->addWidget(paragraph(tr("Cannot scan it? Enter this key by hand:"), this));
    steps->addLayout(secretRow);
    steps->addWidget(m_expiry);
    steps->addSpacing(8);
    steps->addWidget(codeLabel);
    steps->addWidget(m_code);
    steps->addWidget(m_retry, 0, Qt::AlignLeft);
    steps->addStretch(1);
    auto *row = new QHBoxLayout;
    row->addWidget(m_qr, 0, Qt::AlignTop);
    row->addSpacing(12);
    row->addLayout(steps, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(row);
    finishLayout();
}

void AuthenticatorPage::initializePage()
{
    if (m_uri.isEmpty() && !m_activated)
        begin();
}

void AuthenticatorPage::begin()
{
    m_retry->hide();
    setBusy(true, tr("Preparing your QR code…"));
    m_wizard.backend().beginTotp(
        m_wizard.pin, [page = QPointer<AuthenticatorPage>(this)](const MfaReply<TotpSetup> &reply) {
            if (!page)
                return;
            page->setBusy(false);
            if (!reply.ok()) {
                if (reply.error->problemCode() == QLatin1String("totp_active")) {
                    // Set up before, from another device: nothing to do here.
                    page->m_wizard.totpActive = true;
                    page->m_activated = true;
                    page->m_wizard.next();
                    return;
                }
                page->showError(*reply.error);
                page->m_retry->show();
                return;
            }
            page->m_uri = reply.value.otpauthUri;
            const QString secret = totpSecretOf(page->m_uri);
            if (!page->m_qr->setText(page->m_uri) || secret.isEmpty()) {
                page->showMessage(tr("Vigil sent a setup code this tray cannot show."));
                page->m_uri.clear();
                page->m_retry->show();
                return;
            }
            page->m_secret->setText(groupedSecret(secret, 4));
            page->m_copy->setEnabled(true);
            page->m_expiry->setText(
                tr("This QR code is valid until %1.")
                    .arg(describeTime(toTimePoint(reply.value.expiresAt), page->m_wizard.clock())));
            page->m_code->clear();
            page->m_code->setFocus();
            Q_EMIT page->completeChanged();
        });
}

bool AuthenticatorPage::ready() const
{
    return !m_uri.isEmpty() && !normalizeTotpCode(m_code->text()).isEmpty();
}

void AuthenticatorPage::busyChanged(bool busy)
{
    m_code->setEnabled(!busy);
    m_retry->setEnabled(!busy);
}

bool AuthenticatorPage::validatePage()
{
    if (m_activated)
        return true;
    if (normalizeTotpCode(m_code->text()).isEmpty()) {
        showMessage(tr("Enter the 6 digits the app shows."));
        return false;
    }
    activate();
    return false;
}

int AuthenticatorPage::nextId() const
{
    return m_wizard.recoveryCodes.isEmpty() && m_activated ? SetupWizard::DonePage
                                                           : SetupWizard::RecoveryPage;
}

void AuthenticatorPage::activate()
{
    setBusy(true, tr("Checking the code…"));
    m_wizard.backend().activateTotp(
        m_wizard.pin, normalizeTotpCode(m_code->text()),
        [page = QPointer<AuthenticatorPage>(this)](const MfaReply<QStringList> &reply) {
            if (!page)
                return;
            page->setBusy(false);
            if (!reply.ok()) {
                page->m_code->clear();
                page->showError(*reply.error);
                if (reply.error->problemCode() == QLatin1String("totp_not_pending")) {
                    page->m_uri.clear();
                    page->m_qr->setText({});
                    page->m_retry->show();
                } else {
                    page->m_code->setFocus();
                }
                return;
            }
            page->m_wizard.recoveryCodes = reply.value;
            page->m_wizard.totpActive = true;
            page->m_activated = true;
            page->m_wizard.next();
        });
}

// RecoveryCodesPage

RecoveryCodesPage::RecoveryCodesPage(SetupWizard &wizard)
    : SetupPage(wizard), m_codes(new QPlainTextEdit(this)),
      m_copy(new QPushButton(tr("&Copy"), this)), m_save(new QPushButton(tr("&Save…"), this)),
      m_stored(new QCheckBox(tr("I have &stored these codes in a safe place"), this))
{
    setTitle(tr("Your recovery codes"));
    setSubTitle(tr("If you forget your PIN, one of these codes lets you choose a new one."));
    m_codes->setReadOnly(true);
    m_codes->setFont(monospace(1.2));
    m_codes->setAccessibleName(tr("Recovery codes"));
    m_codes->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_copy->setAccessibleName(tr("Copy recovery codes"));
    m_save->setAccessibleName(tr("Save recovery codes to a file"));
    m_stored->setAccessibleName(tr("I have stored these codes in a safe place"));
    connect(m_stored, &QCheckBox::toggled, this, &QWizardPage::completeChanged);
    connect(m_copy, &QPushButton::clicked, this, [this] {
        m_wizard.copyToClipboard(codesText());
        showMessage(tr("The codes are on the clipboard."), false);
    });
    connect(m_save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save recovery codes"),
            QDir::home().filePath(QStringLiteral("vigil-recovery-codes.txt")),
            tr("Text files (*.txt)"));
        if (!path.isEmpty())
            saveTo(path);
    });
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_copy);
    buttons->addWidget(m_save);
    buttons->addStretch(1);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(paragraph(tr("Each code works once. They are shown only now: Vigil keeps "
                                   "only a fingerprint of them. Save them or write them down, "
                                   "and keep them away from this computer."),
                                this));
    layout->addWidget(m_codes);
    layout->addLayout(buttons);
    layout->addWidget(m_stored);
    finishLayout();
}

QString RecoveryCodesPage::codesText() const
{
    return m_wizard.recoveryCodes.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

void RecoveryCodesPage::initializePage()
{
    // Two columns: ten codes fit without scrolling.
    const QStringList &codes = m_wizard.recoveryCodes;
    const qsizetype half = (codes.size() + 1) / 2;
    QStringList lines;
    for (qsizetype i = 0; i < half; ++i) {
        QString line = QStringLiteral("%1. %2").arg(i + 1, 2).arg(codes[i]);
        if (i + half < codes.size())
            line += QStringLiteral("    %1. %2").arg(i + half + 1, 2).arg(codes[i + half]);
        lines.append(line);
    }
    m_codes->setPlainText(lines.join(QLatin1Char('\n')));
    const QFontMetrics metrics(m_codes->font());
    m_codes->setFixedHeight(
        metrics.lineSpacing() * int(half + 2) +
        2 * (m_codes->frameWidth() + int(m_codes->document()->documentMargin())));
    m_stored->setChecked(false);
}

bool RecoveryCodesPage::ready() const
{
    return m_stored->isChecked();
}

bool RecoveryCodesPage::saveTo(const QString &path)
{
    const QByteArray name = QFile::encodeName(path);
    // Created readable by its owner only; an existing file is made so before it is written.
    const int fd = ::open(name.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                          S_IRUSR | S_IWUSR);
    bool written = fd >= 0 && ::fchmod(fd, S_IRUSR | S_IWUSR) == 0;
    if (written) {
        const QByteArray text =
            (tr("Vigil recovery codes for %1. Each works once.").arg(m_wizard.status.name) +
             QLatin1Char('\n') + codesText())
                .toUtf8();
        qsizetype done = 0;
        while (written && done < text.size()) {
            const ssize_t n = ::write(fd, text.constData() + done, std::size_t(text.size() - done));
            if (n < 0 && errno == EINTR)
                continue;
            written = n > 0;
            done += n > 0 ? n : 0;
        }
    }
    const int error = errno;
    if (fd >= 0 && ::close(fd) != 0)
        written = false;
    if (!written) {
        showMessage(
            tr("Could not save to %1: %2")
                .arg(QDir::toNativeSeparators(path), QString::fromLocal8Bit(std::strerror(error))));
        return false;
    }
    showMessage(tr("Saved to %1.").arg(QDir::toNativeSeparators(path)), false);
    return true;
}

// SetupDonePage

SetupDonePage::SetupDonePage(SetupWizard &wizard) : SetupPage(wizard), m_summary(new QLabel(this))
{
    setTitle(tr("Sign-in is set up"));
    setFinalPage(true);
    m_summary->setWordWrap(true);
    m_summary->setAccessibleName(tr("Summary"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    finishLayout();
}

void SetupDonePage::initializePage()
{
    const QString name = m_wizard.status.name.toHtmlEscaped();
    QString text = tr("You are set up as <b>%1</b> on this computer.").arg(name);
    text += QStringLiteral("<p>") +
            tr("When Vigil asks you to sign in, enter your PIN, or a code from your "
               "authenticator app when you do not have your PIN at hand.") +
            QStringLiteral("</p>");
    if (m_wizard.recoveryCodes.isEmpty())
        text += QStringLiteral("<p>") +
                tr("Your authenticator app was set up before and works here too.") +
                QStringLiteral("</p>");
    else
        text += QStringLiteral("<p>") +
                tr("Keep your recovery codes safe: each one replaces a forgotten PIN once.") +
                QStringLiteral("</p>");
    m_summary->setText(text);
}

} // namespace vigil::ui

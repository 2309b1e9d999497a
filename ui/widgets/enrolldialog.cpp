#include "ui/widgets/enrolldialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace vigil::ui {

EnrollDialog::EnrollDialog(QWidget *parent)
    : QDialog(parent), m_token(new QLineEdit(this)), m_message(new QLabel(this)),
      m_enroll(new QPushButton(tr("&Enroll"), this))
{
    setWindowTitle(tr("Vigil: enroll this device"));
    auto *intro = new QLabel(tr("Enter the enrollment token your administrator gave you. The "
                                "device then proves itself to your organisation's verifier."),
                             this);
    intro->setWordWrap(true);
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setAccessibleName(tr("Enrollment token"));
    m_message->setWordWrap(true);
    m_message->setAccessibleName(tr("Enrollment result"));
    m_enroll->setDefault(true);
    m_enroll->setEnabled(false);
    connect(m_token, &QLineEdit::textChanged, this,
            [this](const QString &text) { m_enroll->setEnabled(!text.trimmed().isEmpty()); });
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    buttons->addButton(m_enroll, QDialogButtonBox::AcceptRole);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_enroll, &QPushButton::clicked, this, [this] {
        m_message->clear();
        Q_EMIT enrollRequested(m_token->text().trimmed());
    });

    auto *form = new QFormLayout;
    form->addRow(tr("&Token:"), m_token);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addWidget(m_message);
    layout->addWidget(buttons);
    setMinimumWidth(420);
}

void EnrollDialog::setBusy(bool busy)
{
    m_token->setEnabled(!busy);
    m_enroll->setEnabled(!busy && !m_token->text().trimmed().isEmpty());
    if (busy)
        m_message->setText(tr("Enrolling: this takes a few seconds…"));
}

void EnrollDialog::showError(const QString &message)
{
    setBusy(false);
    m_message->setText(message);
}

void EnrollDialog::done(int result)
{
    m_token->clear();
    m_message->clear();
    QDialog::done(result);
}

} // namespace vigil::ui

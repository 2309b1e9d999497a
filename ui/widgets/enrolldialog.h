#pragma once

// "Enroll this device…": asks for the enrollment token an administrator handed out and lets
// vigild enroll with it. The token is a secret: a password field, never logged, cleared when the
// dialog closes.

#include <QDialog>

class QLabel;
class QLineEdit;
class QPushButton;

namespace vigil::ui {

class EnrollDialog : public QDialog
{
    Q_OBJECT

public:
    explicit EnrollDialog(QWidget *parent = nullptr);

    // While vigild enrolls: the fields are disabled and the dialog says so.
    void setBusy(bool busy);
    // An enrollment that failed: why, in the dialog, which stays open for another try.
    void showError(const QString &message);

Q_SIGNALS:
    void enrollRequested(const QString &token);

protected:
    void done(int result) override;

private:
    QLineEdit *m_token;
    QLabel *m_message;
    QPushButton *m_enroll;
};

} // namespace vigil::ui

// PromptService: a registered kind opens its window, a repeated request raises it instead of
// stacking a second, an unknown kind is refused with a warning, and each request is answered
// once, dismissed when its window is closed, or withdrawn.
#include "ui/prompts/promptservice.h"

#include <QApplication>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

using vigil::ui::PromptRequest;
using vigil::ui::PromptService;

Q_DECLARE_METATYPE(nlohmann::json)

class TestPromptService : public QObject
{
    Q_OBJECT

private:
    // A prompt of kind "approve": one button that answers {"approved": true}.
    static void registerApprove(PromptService &service, int &made)
    {
        service.registerPrompt(
            QStringLiteral("approve"), [&made](const PromptRequest &request, PromptService &owner) {
                ++made;
                auto *button = new QPushButton(QString::fromStdString(
                    request.data.is_object() ? request.data.value("text", "") : ""));
                const QString id = request.id;
                QObject::connect(button, &QPushButton::clicked, &owner, [&owner, id] {
                    owner.answer(id, {{"approved", true}});
                });
                return button;
            });
    }

private Q_SLOTS:
    void opensOncePerRequestAndAnswersOnce()
    {
        PromptService service;
        int made = 0;
        registerApprove(service, made);
        QSignalSpy answered(&service, &PromptService::answered);
        const PromptRequest request{
            QStringLiteral("approve"), QStringLiteral("r1"), {{"text", "Sign in to payroll?"}}};
        QVERIFY(service.open(request));
        QVERIFY(service.open(request)); // vigild asked again: the same window
        QCOMPARE(made, 1);
        QCOMPARE(service.openIds(), QStringList{QStringLiteral("r1")});
        auto *button = qobject_cast<QPushButton *>(service.window(QStringLiteral("r1")));
        QVERIFY(button);
        QCOMPARE(button->text(), QStringLiteral("Sign in to payroll?"));
        QVERIFY(button->isVisible());

        button->click();
        QCOMPARE(answered.size(), 1);
        QCOMPARE(answered[0][0].toString(), QStringLiteral("r1"));
        QCOMPARE(answered[0][1].value<nlohmann::json>(), (nlohmann::json{{"approved", true}}));
        QVERIFY(service.openIds().isEmpty());
        service.answer(QStringLiteral("r1"), {{"approved", false}}); // too late: ignored
        QCOMPARE(answered.size(), 1);
    }

    void refusesAKindNothingRegistered()
    {
        PromptService service;
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral(
                                               "prompt of kind \"totp_setup\".*does not have")));
        QVERIFY(!service.open({QStringLiteral("totp_setup"), QStringLiteral("r2"), {}}));
        QVERIFY(service.openIds().isEmpty());
    }

    void closingTheWindowDismisses()
    {
        PromptService service;
        int made = 0;
        registerApprove(service, made);
        QSignalSpy dismissed(&service, &PromptService::dismissed);
        QSignalSpy answered(&service, &PromptService::answered);
        QVERIFY(service.open({QStringLiteral("approve"), QStringLiteral("r3"), {}}));
        service.window(QStringLiteral("r3"))->close();
        QCOMPARE(dismissed.size(), 1);
        QCOMPARE(dismissed[0][0].toString(), QStringLiteral("r3"));
        QVERIFY(service.openIds().isEmpty());
        QCOMPARE(answered.size(), 0);
    }

    void aPromptCanDismissItself()
    {
        PromptService service;
        int made = 0;
        registerApprove(service, made);
        QSignalSpy dismissed(&service, &PromptService::dismissed);
        QVERIFY(service.open({QStringLiteral("approve"), QStringLiteral("r5"), {}}));
        QPointer<QWidget> window = service.window(QStringLiteral("r5"));
        service.dismiss(QStringLiteral("r5"));
        service.dismiss(QStringLiteral("r5")); // once only
        QCOMPARE(dismissed.size(), 1);
        QVERIFY(service.openIds().isEmpty());
        QTRY_VERIFY(window.isNull());
    }

    void withdrawnRequestsCloseUnanswered()
    {
        PromptService service;
        int made = 0;
        registerApprove(service, made);
        QSignalSpy dismissed(&service, &PromptService::dismissed);
        QVERIFY(service.open({QStringLiteral("approve"), QStringLiteral("r4"), {}}));
        QPointer<QWidget> window = service.window(QStringLiteral("r4"));
        service.withdraw(QStringLiteral("r4"));
        QVERIFY(service.openIds().isEmpty());
        QVERIFY(!window || !window->isVisible());
        QTRY_VERIFY(window.isNull()); // deleted once the event loop runs
        QCOMPARE(dismissed.size(), 0);
    }
};

QTEST_MAIN(TestPromptService)
#include "tst_promptservice.moc"

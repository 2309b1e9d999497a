#pragma once

// Every message Qt's logging sees while a LogCapture lives, debug included, so that a test can
// assert what a log never contains (a PIN) and what it does.

#include <QLoggingCategory>
#include <QMutex>
#include <QString>
#include <QStringList>

namespace vigil::test {

class LogCapture
{
public:
    LogCapture()
    {
        lines().clear();
        QLoggingCategory::setFilterRules(QStringLiteral("*.debug=true"));
        m_previous = qInstallMessageHandler(&LogCapture::handle);
    }
    ~LogCapture()
    {
        qInstallMessageHandler(m_previous);
        QLoggingCategory::setFilterRules(QString());
    }
    LogCapture(const LogCapture &) = delete;
    LogCapture &operator=(const LogCapture &) = delete;

    QString text() const
    {
        QMutexLocker locker(&mutex());
        return lines().join(QLatin1Char('\n'));
    }

private:
    static void handle(QtMsgType, const QMessageLogContext &context, const QString &message)
    {
        QMutexLocker locker(&mutex());
        lines().append(QString::fromLatin1(context.category ? context.category : "") +
                       QStringLiteral(": ") + message);
    }
    static QStringList &lines()
    {
        static QStringList captured;
        return captured;
    }
    static QMutex &mutex()
    {
        static QMutex lock;
        return lock;
    }

    QtMessageHandler m_previous = nullptr;
};

} // namespace vigil::test

#include "ui/translations/translations.h"

#include <QCoreApplication>
#include <QLocale>
#include <QTranslator>

namespace vigil::ui {

void installTranslations(QCoreApplication &application)
{
    auto *translator = new QTranslator(&application);
    if (translator->load(QLocale(), QStringLiteral("vigil"), QStringLiteral("_"),
                         QStringLiteral(":/vigil/translations")) ||
        translator->load(QStringLiteral(":/vigil/translations/vigil_en.qm")))
        QCoreApplication::installTranslator(translator);
    else
        delete translator;
}

} // namespace vigil::ui

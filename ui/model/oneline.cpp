#include "ui/model/oneline.h"

#include <algorithm>

namespace vigil::ui {

QString oneLine(std::string_view text, qsizetype maxChars)
{
    QString line = QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size()));
    if (const qsizetype end = line.indexOf(QLatin1Char('\n')); end >= 0)
        line.truncate(end);
    line = line.simplified();
    if (line.size() <= maxChars || maxChars < 2)
        return line.left(std::max<qsizetype>(maxChars, 0));
    // Room for the ellipsis; back up to the last space unless that throws away most of the text.
    qsizetype cut = maxChars - 1;
    if (const qsizetype space = line.lastIndexOf(QLatin1Char(' '), cut); space > maxChars / 2)
        cut = space;
    QString shortened = line.left(cut);
    while (shortened.endsWith(QLatin1Char(' ')) || shortened.endsWith(QLatin1Char(',')) ||
           shortened.endsWith(QLatin1Char(':')) || shortened.endsWith(QLatin1Char(';')))
        shortened.chop(1);
    return shortened + QChar(0x2026);
}

QString escapeMnemonics(QString text)
{
    return text.replace(QLatin1Char('&'), QStringLiteral("&&"));
}

} // namespace vigil::ui

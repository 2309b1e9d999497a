#pragma once

// Small pieces the set-up wizard's pages share (setupwizardpages.cpp, setupwizardtotp.cpp).

#include <QDateTime>
#include <QFont>
#include <QFontDatabase>
#include <QFontInfo>
#include <QLabel>
#include <chrono>

namespace vigil::ui::wizardparts {

inline QLabel *paragraph(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    return label;
}

inline std::chrono::system_clock::time_point toTimePoint(const QDateTime &time)
{
    return std::chrono::system_clock::time_point(
        std::chrono::milliseconds(time.toMSecsSinceEpoch()));
}

inline QFont monospace(qreal scale = 1.0)
{
    QFont font = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    // A platform theme without a fixed font (offscreen, some minimal desktops): ask fontconfig.
    if (!QFontInfo(font).fixedPitch()) {
        font.setFamily(QStringLiteral("monospace"));
        font.setStyleHint(QFont::TypeWriter);
    }
    font.setFixedPitch(true);
    if (scale != 1.0)
        font.setPointSizeF(font.pointSizeF() * scale);
    return font;
}

} // namespace vigil::ui::wizardparts

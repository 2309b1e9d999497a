#pragma once

class QCoreApplication;

namespace vigil::ui {

// Loads the tray's translations, compiled into the binary: the language of the user's locale
// when there is one, and English otherwise. English is a translation too, for the texts with a
// count ("1 check", "2 checks"), whose plural only a translation can give.
void installTranslations(QCoreApplication &application);

} // namespace vigil::ui

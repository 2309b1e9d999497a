#pragma once

// A QR code (libqrencode) and the widget that shows it: black modules on white with the
// standard four-module quiet zone, each module a whole number of device pixels, so that a
// phone's camera reads it at any scale factor.

#include <QImage>
#include <QString>
#include <QWidget>
#include <optional>
#include <vector>

namespace vigil::ui {

class QrCode
{
public:
    static constexpr int quietZone = 4; // modules of white around the symbol (ISO/IEC 18004)

    // Error correction level M, byte mode, the smallest version that fits. Nothing when the
    // text does not fit in a QR code.
    static std::optional<QrCode> encode(const QString &text);

    int size() const { return m_size; } // modules per side, without the quiet zone
    bool dark(int x, int y) const
    {
        return m_modules[std::size_t(y) * std::size_t(m_size) + std::size_t(x)];
    }
    // The symbol with its quiet zone, modulePixels pixels a module, black on white.
    QImage image(int modulePixels) const;

private:
    int m_size = 0;
    std::vector<bool> m_modules;
};

class QrCodeWidget : public QWidget
{
    Q_OBJECT

public:
    explicit QrCodeWidget(QWidget *parent = nullptr);

    // Empty text clears it. False (and nothing shown) when the text does not fit.
    bool setText(const QString &text);
    QString text() const { return m_text; }
    bool hasCode() const { return m_code.has_value(); }

    // The device pixels of one module as last painted (0 before), for tests.
    int lastModulePixels() const { return m_lastModulePixels; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    QString m_text;
    std::optional<QrCode> m_code;
    int m_lastModulePixels = 0;
};

} // namespace vigil::ui

#!/usr/bin/env python3
"""Writes the tray's six state icons (ui/icons/*.svg). The SVGs are committed; run this after
changing a shape or colour here, then look at the test's renderings (build/<preset>/screenshots).

Each state differs by shape, not only by colour: the glyph of a filled shield is cut out of it
(fill-rule evenodd), so a monochrome panel that keeps only the alpha channel, and a colour-blind
user, still see check, clock, cross or question mark. Filled shields carry a dark outline
(light panels) around a mid-tone fill (dark panels); the hollow ones are drawn with a light line
inside a dark casing, visible on both. Qt SVG renders SVG Tiny 1.2: no masks, hence evenodd."""

import math
import pathlib

DARK = "#1f2328"


def shield(scale=1.0):
    def p(x, y):
        return f"{12 + (x - 12) * scale:.2f} {12 + (y - 12) * scale:.2f}"

    return (f"M{p(12, 1.6)} L{p(20.4, 4.6)} L{p(20.4, 11)} "
            f"C{p(20.4, 16.4)} {p(16.9, 20.3)} {p(12, 22.4)} "
            f"C{p(7.1, 20.3)} {p(3.6, 16.4)} {p(3.6, 11)} L{p(3.6, 4.6)} Z")


def polygon(points):
    return "M" + " L".join(f"{x:.2f} {y:.2f}" for x, y in points) + " Z"


def thick_polyline(points, width):
    """The outline of a polyline drawn width wide, with butt ends and mitred joins."""
    h = width / 2

    def normal(a, b):
        dx, dy = b[0] - a[0], b[1] - a[1]
        length = math.hypot(dx, dy)
        return (-dy / length, dx / length)

    left, right = [], []
    for i, point in enumerate(points):
        if i == 0:
            n, k = normal(points[0], points[1]), h
        elif i == len(points) - 1:
            n, k = normal(points[-2], points[-1]), h
        else:
            n1, n2 = normal(points[i - 1], point), normal(point, points[i + 1])
            s = (n1[0] + n2[0], n1[1] + n2[1])
            length = math.hypot(*s)
            n = (s[0] / length, s[1] / length)
            k = h / (n[0] * n1[0] + n[1] * n1[1])
        left.append((point[0] + n[0] * k, point[1] + n[1] * k))
        right.append((point[0] - n[0] * k, point[1] - n[1] * k))
    return polygon(left + right[::-1])


def circle(cx, cy, r):
    return (f"M{cx - r:.2f} {cy:.2f} A{r} {r} 0 1 0 {cx + r:.2f} {cy:.2f} "
            f"A{r} {r} 0 1 0 {cx - r:.2f} {cy:.2f} Z")


def cross(cx, cy, arm, width):
    h = width / 2
    points = []
    for k in range(4):
        a = math.radians(45 + 90 * k)
        d, n = (math.cos(a), math.sin(a)), (-math.sin(a), math.cos(a))
        points.append((cx + arm * d[0] - h * n[0], cy + arm * d[1] - h * n[1]))
        points.append((cx + arm * d[0] + h * n[0], cy + arm * d[1] + h * n[1]))
        b = math.radians(90 + 90 * k)  # where this arm meets the next
        points.append((cx + h * math.sqrt(2) * math.cos(b), cy + h * math.sqrt(2) * math.sin(b)))
    return polygon(points)


def question(cx, cy):
    hook = [(cx + 2.9 * math.cos(math.radians(t)), cy - 2.4 - 2.9 * math.sin(math.radians(t)))
            for t in range(165, -55, -15)]
    hook += [(cx, cy + 1.2), (cx, cy + 2.6)]
    return thick_polyline(hook, 2.5) + " " + circle(cx, cy + 5.4, 1.45)


def filled(colour, glyph):
    # The outline is a path of its own: stroking the glyph's edges too would narrow the cut-outs.
    return (f'  <path fill="{colour}" fill-rule="evenodd" d="{shield()} {glyph}"/>\n'
            f'  <path fill="none" stroke="{DARK}" stroke-width="1.2" stroke-linejoin="round" '
            f'd="{shield()}"/>\n')


def cased(d, colour, width, casing=1.4):
    """A light line inside a dark one: the light part shows on dark panels, the dark on light."""
    common = 'fill="none" stroke-linejoin="round" stroke-linecap="round"'
    return (f'  <path {common} stroke="{DARK}" stroke-width="{width + casing:.1f}" d="{d}"/>\n'
            f'  <path {common} stroke="{colour}" stroke-width="{width}" d="{d}"/>\n')


CLOCK_HANDS = polygon([(11.15, 7.4), (12.85, 7.4), (12.85, 10.55), (15.3, 10.55), (15.3, 12.25),
                       (11.15, 12.25)])

ICONS = {
    "compliant": filled("#2ea44f", thick_polyline([(7.4, 11.6), (10.6, 14.8), (16.6, 8.4)], 2.8)),
    "grace": filled("#e3a21a", circle(12, 11.4, 5.3) + " " + CLOCK_HANDS),
    "non_compliant": filled("#d73a49", cross(12, 11.6, 4.9, 2.8)),
    "offline": filled("#9aa4ae", question(12, 11.0)),
    # Hollow: nothing vouches for this device yet; the plus is the way in.
    "not_enrolled": cased(shield(0.88), "#58a6ff", 1.3)
    + cased("M12 8.9 V14.9 M9 11.9 H15", "#58a6ff", 1.9, 1.3),
    # Hollow and struck through: the service that would vouch is off. (Dashes were tried: at 16
    # pixels they turned the shield into an egg.)
    "service_not_running": cased(shield(0.88), "#d0d7de", 1.3)
    + cased("M4.2 3.2 L19.8 20.8", "#d0d7de", 1.7, 1.3),
}

if __name__ == "__main__":
    here = pathlib.Path(__file__).resolve().parent
    for name, body in ICONS.items():
        (here / f"{name}.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny" '
            'width="24" height="24" viewBox="0 0 24 24">\n' + body + "</svg>\n")

#!/usr/bin/env bash
# Refreshes ui/translations/vigil_en.ts from the sources: English needs a "translation" only for
# the texts with a count ("%n check(s)"), whose singular and plural lupdate cannot guess. Each
# "(s)" becomes "" in the singular and "s" in the plural; check the result before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
ts=ui/translations/vigil_en.ts
# lupdate reads each file alone and warns of classes it cannot see: not a problem here.
/usr/lib/qt6/bin/lupdate -silent -pluralonly -locations none -target-language en ui -ts "$ts" \
    2> >(grep -v "Qualifying with unknown namespace" >&2)
/usr/bin/python3 - "$ts" <<'PY'
import re, sys, xml.etree.ElementTree as ET
path = sys.argv[1]
tree = ET.parse(path)
for message in tree.iter("message"):
    if message.get("numerus") != "yes":
        continue
    source = message.find("source").text
    translation = message.find("translation")
    for child in list(translation):
        translation.remove(child)
    translation.attrib.pop("type", None)
    for form in (source.replace("(s)", ""), source.replace("(s)", "s")):
        ET.SubElement(translation, "numerusform").text = form
ET.indent(tree)
tree.write(path, encoding="utf-8", xml_declaration=True)
PY
echo "updated $ts"

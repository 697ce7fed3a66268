#!/usr/bin/env bash
# Renders the first screen (1280 x 900) of an evaluation report with headless Chromium and checks that a
# person would see a report: the right size, mostly light page with dark text, and the charts' colours.
# Usage: scripts/report-screenshot.sh REPORT_DIR [OUT.png]   (default OUT: REPORT_DIR/first-screen.png)
set -euo pipefail
report=${1:?usage: scripts/report-screenshot.sh REPORT_DIR [OUT.png]}
out=${2:-$report/first-screen.png}
if ! command -v chromium >/dev/null; then
  echo "installing Debian's chromium (once)" >&2
  ${SUDO:-$([ "$(id -u)" = 0 ] || echo sudo)} apt-get install -y -q chromium >/dev/null
fi
html=$(cd "$report" && pwd)/report.html
[ -f "$html" ] || { echo "no report.html in $report" >&2; exit 1; }
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,900 \
  --screenshot="$out" "file://$html" 2>/dev/null
python3 - "$out" <<'PY'
import struct, sys, zlib
path = sys.argv[1]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, chunks = 8, {}
idat = b""
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR": width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    if kind == b"IDAT": idat += body
    pos += 12 + length
assert depth == 8 and colour in (2, 6), f"unexpected PNG format {depth}/{colour}"
channels = 3 if colour == 2 else 4
raw, stride = zlib.decompress(idat), width * channels
rows, prev = [], bytearray(stride)
for y in range(height):
    kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - channels] if i >= channels else 0
        b, c = prev[i], prev[i - channels] if i >= channels else 0
        if kind == 1: line[i] = (line[i] + a) & 255
        elif kind == 2: line[i] = (line[i] + b) & 255
        elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line); prev = line
pixels = [tuple(r[x * channels:x * channels + 3]) for r in rows for x in range(width)]
white = sum(1 for p in pixels if min(p) > 235) / len(pixels)
dark = sum(1 for p in pixels if max(p) < 90) / len(pixels)
def near(rgb): return sum(1 for p in pixels if all(abs(p[i] - rgb[i]) < 12 for i in range(3)))
blue, orange = near((0x4e, 0x79, 0xa7)), near((0xf2, 0x8e, 0x2b))
print(f"{path}: {width}x{height}, {white:.1%} light, {dark:.2%} dark text, chart blue {blue} px, orange {orange} px")
problems = []
if (width, height) != (1280, 900): problems.append("size is not 1280x900")
if not 0.5 < white < 0.99: problems.append("page is blank or not light")
if dark < 0.003: problems.append("no text visible")
if blue < 500 or orange < 500: problems.append("charts not visible on the first screen")
if problems: sys.exit("screenshot check failed: " + "; ".join(problems))
print("screenshot check passed")
PY

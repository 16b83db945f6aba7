#!/usr/bin/env python3
"""Seed corpora for the `wav` and `au` fuzz targets, written OUTSIDE the repository.

    python3 fuzz/seeds.py OUT_DIR [GTZAN_DIR]

OUT_DIR/wav and OUT_DIR/au get small synthetic files of every encoding the decoders read (and a
few they refuse), and, with GTZAN_DIR, the first 4 KB of up to six real clips found under it
(.wav or .au): each once cut with its original header (promising 30 s: a truncated file) and once
with the header's sizes rewritten to the bytes kept (a valid short clip). Real clips become .au
seeds too (16-bit big-endian PCM). GTZAN audio is never to be committed: keep OUT_DIR outside the
repository.
"""

import os
import struct
import sys

KEEP = 4096  # bytes of sample data kept from a real clip


def wav(tag, channels, rate, bits, block, data, size=None, extensible_sub=None):
    size = len(data) if size is None else size
    if extensible_sub is None:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    else:
        guid_tail = bytes([0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71])
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * block, block, bits, 22, bits, 4)
        fmt += struct.pack("<H", extensible_sub) + guid_tail
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"LIST" + struct.pack("<I", 4) + b"INFO"
    body += b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def au(encoding, rate, channels, data, size=None, annotation=b"seed\0\0\0\0"):
    size = len(data) if size is None else size
    return struct.pack(">4sIIIII", b".snd", 24 + len(annotation), size, encoding, rate, channels) + annotation + data


def synthetic():
    tone16 = b"".join(struct.pack("<h", (i * 997) % 65536 - 32768) for i in range(256))
    tone16be = b"".join(struct.pack(">h", (i * 997) % 65536 - 32768) for i in range(256))
    w = {
        "pcm8.wav": wav(1, 1, 8000, 8, 1, bytes(range(256))),
        "pcm16.wav": wav(1, 1, 22050, 16, 2, tone16),
        "pcm16-stereo.wav": wav(1, 2, 44100, 16, 4, tone16),
        "pcm24.wav": wav(1, 1, 48000, 24, 3, tone16[:255]),
        "pcm32.wav": wav(1, 1, 16000, 32, 4, tone16),
        "float32.wav": wav(3, 1, 22050, 32, 4, struct.pack("<4f", 0.5, -0.5, 0.25, 1.0)),
        "float64.wav": wav(3, 1, 22050, 64, 8, struct.pack("<2d", 0.5, -0.5)),
        "extensible24.wav": wav(0, 2, 96000, 24, 6, tone16[:252], extensible_sub=1),
        "extensible-float.wav": wav(0, 1, 22050, 32, 4, tone16, extensible_sub=3),
        "alaw.wav": wav(6, 1, 8000, 8, 1, bytes(64)),
        "truncated.wav": wav(1, 1, 22050, 16, 2, tone16, size=4 * len(tone16)),
        "one-hertz.wav": wav(1, 1, 1, 16, 2, tone16, size=0x7FFFFFFF),
    }
    a = {
        "pcm8.au": au(2, 8000, 1, bytes(range(256))),
        "pcm16.au": au(3, 22050, 1, tone16be),
        "pcm16-stereo-unknown-size.au": au(3, 44100, 2, tone16be, size=0xFFFFFFFF),
        "pcm24.au": au(4, 48000, 1, tone16be[:255]),
        "pcm32.au": au(5, 16000, 1, tone16be),
        "float32.au": au(6, 22050, 1, struct.pack(">4f", 0.5, -0.5, 0.25, 1.0)),
        "mulaw.au": au(1, 8000, 1, bytes(64)),
        "truncated.au": au(3, 22050, 1, tone16be, size=4 * len(tone16be)),
    }
    return w, a


def parse_wav(b):
    """(fmt chunk bytes, data bytes) of a canonical WAV, or None."""
    if b[:4] != b"RIFF" or b[8:12] != b"WAVE":
        return None
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(b):
        cid, size = b[pos:pos + 4], struct.unpack("<I", b[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            fmt = b[pos + 8:pos + 8 + size]
        elif cid == b"data":
            data = b[pos + 8:pos + 8 + size]
            break
        pos += 8 + size + (size & 1)
    return (fmt, data) if fmt and data is not None else None


def real(gtzan):
    clips = []
    for d, _, files in sorted(os.walk(gtzan)):
        for f in sorted(files):
            if f.lower().endswith((".wav", ".au")):
                clips.append(os.path.join(d, f))
    # one clip per genre folder, at most six
    seen, picked = set(), []
    for c in clips:
        g = os.path.basename(os.path.dirname(c))
        if g not in seen:
            seen.add(g)
            picked.append(c)
    w, a = {}, {}
    for c in picked[:6]:
        stem = os.path.splitext(os.path.basename(c))[0]
        b = open(c, "rb").read()
        if c.lower().endswith(".au"):
            a[f"real-{stem}-cut.au"] = b[:24 + KEEP]
            off = struct.unpack(">I", b[4:8])[0]
            a[f"real-{stem}.au"] = b[:8] + struct.pack(">I", KEEP) + b[12:off] + b[off:off + KEEP]
            continue
        parsed = parse_wav(b)
        if not parsed:
            continue
        fmt, data = parsed
        tag, ch, rate, _, block, bits = struct.unpack("<HHIIHH", fmt[:16])
        head_len = len(b) - len(b[b.index(b"data"):]) + 8
        w[f"real-{stem}-cut.wav"] = b[:head_len + KEEP]
        w[f"real-{stem}.wav"] = wav(tag, ch, rate, bits, block, data[:KEEP])
        if tag == 1 and bits == 16:
            be = b"".join(struct.pack(">h", s) for (s,) in struct.iter_unpack("<h", data[:KEEP]))
            a[f"real-{stem}.au"] = au(3, rate, ch, be)
            a[f"real-{stem}-cut.au"] = au(3, rate, ch, be, size=len(data))
    return w, a


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    w, a = synthetic()
    if len(sys.argv) > 2:
        rw, ra = real(sys.argv[2])
        w.update(rw)
        a.update(ra)
    for target, files in (("wav", w), ("au", a)):
        os.makedirs(os.path.join(out, target), exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(out, target, name), "wb") as f:
                f.write(data)
        print(f"{target}: {len(files)} seeds in {os.path.join(out, target)}")
    os.makedirs(os.path.join(out, "discover"), exist_ok=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Builds tests/data/golden/text/ from ../shared/golden (run once by a developer;
the result is committed so a fresh clone tests without ../shared).

The bundled tiny model is the unified checkpoint of gemma3n-tiny/model/. Its text
goldens are those of gemma3n-tiny/text_audio/ (the merge changed no text weight:
see that README), except text_mm_hard, which embeds vision hard ids through the
re-initialised embed_vision and so is taken from gemma3n-tiny/model/.
The real-size audio feature goldens come from real-dims/audio/.
Plain byte copies of safetensors entries: no value is touched.
"""
import json
import struct
import sys
from pathlib import Path


def read(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        b, e = meta["data_offsets"]
        out[name] = (meta["dtype"], meta["shape"], body[b:e])
    return out


def write(path, tensors):
    header, body = {}, bytearray()
    for name in sorted(tensors):
        dtype, shape, data = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(body), len(body) + len(data)]}
        body += data
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(h)) + h + bytes(body))


def main():
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/golden")
    dst = Path(__file__).resolve().parent.parent / "tests/data/golden/text"
    dst.mkdir(parents=True, exist_ok=True)
    old = read(shared / "gemma3n-tiny/text_audio/golden.safetensors")
    unified = read(shared / "gemma3n-tiny/model/golden.safetensors")
    for key in [k for k in old if k.startswith("text_mm_hard.")]:
        old[key] = unified[key]
    write(dst / "golden.safetensors", old)
    ids = read(shared / "gemma3n-tiny/text_audio/golden_ids.safetensors")
    uids = read(shared / "gemma3n-tiny/model/golden_ids.safetensors")
    assert uids["text_mm_hard.input_ids"][2] == ids["text_mm_hard.input_ids"][2]
    write(dst / "golden_ids.safetensors", ids)

    # Audio: the real-size feature goldens (the encoder stages are large; only
    # the log-mel features and masks are kept here).
    audio = Path(__file__).resolve().parent.parent / "tests/data/golden/audio"
    audio.mkdir(parents=True, exist_ok=True)
    real = read(shared / "real-dims/audio/golden.safetensors")
    keep = {k: v for k, v in real.items() if k.endswith(".input_features") or k.endswith(".input_features_mask")}
    write(audio / "real_dims_features.safetensors", keep)
    # The real-size encoder: outputs, block probes (to locate a divergence) and
    # soft tokens; the full per-block tensors stay in ../shared.
    outputs = {k: v for k, v in real.items()
               if k.endswith((".encoder_output", ".encoder_output_mask", ".soft_tokens", ".conformer_probes"))}
    write(audio / "real_dims_encoder.safetensors", outputs)

    # Vision on the bundled (unified) tiny model: image_0 (image_chat) and
    # image_1 (image_audio): pixels fed to the tower, its output, soft tokens.
    vision = Path(__file__).resolve().parent.parent / "tests/data/golden/vision"
    vision.mkdir(parents=True, exist_ok=True)
    keys = [c + "." + t for c in ("image_chat", "image_audio")
            for t in ("pixel_values", "vision_out", "image_soft_tokens")]
    write(vision / "tiny_vision.safetensors", {k: unified[k] for k in keys})


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/ (the seeds only; regression
cases found by fuzzing are added by hand, named regress-*). Deterministic:
run it again and nothing changes. Sources are tests/data (the tiny model's
files, the test images) and small files made here; requests are encoded with
protoc from text format.

    python3 tests/fuzz/make_seeds.py
"""
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # aifc and sunau: gone in Python 3.13, fine in Debian 12's 3.11
import aifc  # noqa: E402
import io
import json
import math
import os
import shutil
import struct
import subprocess
import sunau
import wave
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")
TINY = os.path.join(DATA, "gemma3n-tiny")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


class KeepOpen(io.BytesIO):
    """aifc and sunau close the file they wrote; its bytes are still wanted."""

    def close(self):
        pass


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors(entries, metadata=None):
    """entries: [(name, dtype, shape, bytes)] laid out one after the other."""
    header, blob = {}, b""
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + blob


def safetensors_seeds():
    raw = open(os.path.join(TINY, "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    # The real tiny checkpoint's smallest tensors with their real bytes.
    tensors = sorted((v["data_offsets"][1] - v["data_offsets"][0], k) for k, v in header.items() if k != "__metadata__")
    picked = []
    for size, name in tensors[:24]:
        e = header[name]
        b, end = e["data_offsets"]
        picked.append((name, e["dtype"], e["shape"], data[b:end]))
    put("safetensors_header", "tiny-small-tensors.safetensors", safetensors(picked, header.get("__metadata__")))
    put("safetensors_header", "every-dtype.safetensors", safetensors([
        ("f32", "F32", [2], b"\0" * 8), ("f16", "F16", [1, 2], b"\0" * 4), ("bf16", "BF16", [2, 1], b"\0" * 4),
        ("f64", "F64", [1], b"\0" * 8), ("i64", "I64", [1], b"\0" * 8), ("i32", "I32", [1], b"\0" * 4),
        ("i16", "I16", [1], b"\0" * 2), ("i8", "I8", [3], b"\0" * 3), ("u8", "U8", [], b"\0"),
        ("bool", "BOOL", [0], b""), ("scalar", "F32", [], b"\0" * 4)], {"format": "pt"}))
    put("safetensors_header", "empty-header.safetensors", struct.pack("<Q", 2) + b"{}")
    overlap = b'{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}'
    put("safetensors_header", "overlap.safetensors", struct.pack("<Q", len(overlap)) + overlap + b"xyz")


def shard_index_seeds():
    names = ["model.language_model.embed_tokens.weight", "model.language_model.layers.0.mlp.up_proj.weight",
             "model.vision_tower.timm_model.conv_stem.conv.weight", "model.audio_tower.conformer.0.ffw_layer_start.ffw_layer_1.weight"]
    weight_map = {n: "model-0000%d-of-00002.safetensors" % (1 + i % 2) for i, n in enumerate(names)}
    put("shard_index", "two-shards.json", json.dumps({"metadata": {"total_size": 123456}, "weight_map": weight_map}, indent=2))
    put("shard_index", "bad-shard-name.json", json.dumps({"weight_map": {"x": "../model.safetensors"}}))
    put("shard_index", "no-weight-map.json", json.dumps({"metadata": {}}))


def model_config_seeds():
    shutil.copy(os.path.join(TINY, "config.json"), os.path.join(CORPUS, "model_config", "tiny-config.json"))
    shutil.copy(os.path.join(DATA, "real-configs", "gemma-3n-E2B.config.json"),
                os.path.join(CORPUS, "model_config", "e2b-config.json"))
    text = json.load(open(os.path.join(TINY, "config.json")))["text_config"]
    text = dict(text, rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1e6},
                                       "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}})
    put("model_config", "text-only-config.json", json.dumps(text))


def tokenizer_seeds():
    put("tokenizer", "hello.txt", "Hello world")
    put("tokenizer", "control-tokens.txt",
        "<start_of_turn>user\n<image_soft_token><start_of_image><end_of_image><audio_soft_token><end_of_turn>\n<bos><eos><pad>")
    put("tokenizer", "partial-control.txt", "<start_of_tur <end_of_turn <<start_of_turn>>")
    put("tokenizer", "unicode.txt", "Grüße, 世界! 🤖 नमस्ते \u200b\t\r\n  x")
    put("tokenizer", "invalid-utf8.bin", b"ok \xff\xfe \xc3\x28 \xe2\x82 \xf0\x9f\x98 \xed\xa0\x80 end \xc0\xaf")
    put("tokenizer", "byte-pieces.txt", "<0x41><0xFF><0x00> ▁▁spaces ▁")
    put("tokenizer", "ids-le16.bin", struct.pack("<8h", 2, 105, 2364, 107, -1, 527, 528, 32767))


def png(width, height, color_type, bit_depth, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    raw = b"".join(b"\0" + r for r in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def bmp(width, height):
    row = bytes((x * 40) % 256 for x in range(width * 3))
    row += b"\0" * ((4 - len(row) % 4) % 4)
    pixels = row * height
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def gif_1x1():
    return (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\x00\x00\x00\x00\xff"
            b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b")


def image_seeds():
    for name in ("image_0.png", "image_1.jpg"):
        shutil.copy(os.path.join(DATA, "images", name), os.path.join(CORPUS, "image", name))
    put("image", "rgb-4x3.png", png(4, 3, 2, 8, [bytes((x * 60 + y * 20) % 256 for x in range(12)) for y in range(3)]))
    put("image", "rgba-2x2.png", png(2, 2, 6, 8, [bytes(range(8)), bytes(range(8, 16))]))
    put("image", "gray16-3x1.png", png(3, 1, 0, 16, [bytes(range(6))]))
    put("image", "palette-less-gray1.png", png(8, 2, 0, 1, [b"\xaa", b"\x55"]))
    put("image", "bgr-5x2.bmp", bmp(5, 2))
    put("image", "one-pixel.gif", gif_1x1())
    put("image", "p6-2x2.ppm", b"P6\n2 2\n255\n" + bytes(range(12)))
    put("image", "p5-3x1.pgm", b"P5 3 1 255\n\x00\x80\xff")
    put("image", "tga-2x1.tga", struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, 2, 1, 24, 0) + bytes(range(6)))


def samples(n, rate, freq=440.0, amp=0.5):
    return [amp * math.sin(2 * math.pi * freq * i / rate) for i in range(n)]


def pcm16(values):
    return b"".join(struct.pack("<h", int(v * 32767)) for v in values)


def wav(rate, channels, width, frames):
    out = io.BytesIO()
    w = wave.open(out, "wb")
    w.setnchannels(channels)
    w.setsampwidth(width)
    w.setframerate(rate)
    vals = samples(frames * channels, rate)
    if width == 1:
        w.writeframes(bytes(int(128 + v * 127) for v in vals))
    elif width == 2:
        w.writeframes(pcm16(vals))
    else:
        w.writeframes(b"".join(int(v * 8388607).to_bytes(3, "little", signed=True) for v in vals))
    w.close()
    return out.getvalue()


def wav_float(rate, frames):
    body = b"".join(struct.pack("<f", v) for v in samples(frames, rate))
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(body)) + b"WAVE" + b"fmt " +
            struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(body)) + body)


def big_endian_pcm16(values):
    return b"".join(struct.pack(">h", int(v * 32767)) for v in values)


def big_endian_mono16(module, rate, frames):
    """A 16-bit mono file through aifc or sunau (same writer interface)."""
    out = KeepOpen()
    f = module.open(out, "wb")
    f.setnchannels(1)
    f.setsampwidth(2)
    f.setframerate(rate)
    f.writeframes(big_endian_pcm16(samples(frames, rate)))
    f.close()
    return out.getvalue()


def audio_seeds():
    put("audio", "pcm16-16k-mono.wav", wav(16000, 1, 2, 1600))
    put("audio", "pcm8-8k-mono.wav", wav(8000, 1, 1, 800))
    put("audio", "pcm16-44k1-stereo.wav", wav(44100, 2, 2, 882))
    put("audio", "pcm24-48k-mono.wav", wav(48000, 1, 3, 960))
    put("audio", "float32-22k05-mono.wav", wav_float(22050, 441))
    put("audio", "pcm16-16k.aiff", big_endian_mono16(aifc, 16000, 800))
    put("audio", "pcm16-11k025.au", big_endian_mono16(sunau, 11025, 551))
    real = open(os.path.join(DATA, "audio", "audio_1.wav"), "rb").read()
    put("audio", "audio_1-cut.wav", real[:2044])  # header promises more than it holds: the truncation check


def audio_config_seeds():
    shutil.copy(os.path.join(TINY, "preprocessor_config.json"),
                os.path.join(CORPUS, "audio_config", "tiny-preprocessor_config.json"))
    put("audio_config", "defaults.json", "{}")


def request_seeds():
    proto_dir = os.path.join(ROOT, "proto")
    cases = {
        "raw-prompt": 'prompt: "<start_of_turn>user\\nHi<end_of_turn>\\n"',
        "chat-text": 'messages { role: "user" parts { text: "Hello there" } } '
                     'config { max_new_tokens: 8 temperature: 0.7 top_k: 40 top_p: 0.9 seed: 3 stop: "\\n" stop: "end" }',
        "chat-image-audio": 'messages { role: "user" parts { image { data: "\\x89PNG" mime_type: "image/png" } } '
                            'parts { audio { data: "RIFFxxxxWAVE" } } parts { text: "Describe." } } '
                            'messages { role: "model" parts { text: "A cat." } } '
                            'messages { role: "user" parts { text: "<image_soft_token> typed" } }',
        "bad-settings": 'prompt: "x" config { top_p: 0 repetition_penalty: -1 min_p: 2 }',
        "system-turn": 'messages { role: "system" parts { text: "Be brief." } } messages { role: "user" parts { text: "Hi" } }',
        "raw-soft-token": 'prompt: "<image_soft_token><audio_soft_token>"',
    }
    for name, text in cases.items():
        data = subprocess.run(["protoc", "-I", proto_dir, "--encode=gemma3n.v1.GenerateRequest",
                               "gemma3n/v1/gemma.proto"], input=text.encode(), capture_output=True, check=True).stdout
        put("request", name + ".pb", data)


# fuzz_http_request: the first byte picks the endpoint (0 chat, 1 completions,
# 2 transcriptions, 3 translations), the rest is the body; multipart bodies
# use the target's boundary.
HTTP_BOUNDARY = "gemma3nfuzz"


def multipart(fields):
    """fields: [(name, value bytes, filename or None, content type or None)]."""
    out = b""
    for name, value, filename, ctype in fields:
        out += b"--" + HTTP_BOUNDARY.encode() + b"\r\n"
        disposition = 'Content-Disposition: form-data; name="%s"' % name
        if filename is not None:
            disposition += '; filename="%s"' % filename
        out += disposition.encode() + b"\r\n"
        if ctype is not None:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + value + b"\r\n"
    return out + b"--" + HTTP_BOUNDARY.encode() + b"--\r\n"


def http_request_seeds():
    png_1x1 = png(1, 1, 2, 8, [b"\x00\xff\x00\x00"])
    data_uri = "data:image/png;base64," + __import__("base64").b64encode(png_1x1).decode()
    wav_b64 = __import__("base64").b64encode(wav(16000, 1, 2, 160)).decode()
    chats = {
        "chat-text": {"model": "gemma-3n-E2B", "messages": [{"role": "user", "content": "Hi"}],
                      "max_tokens": 8, "temperature": 0.7, "top_p": 0.9, "seed": 3, "stop": ["\n", "end"]},
        "chat-stream-system": {"model": "gemma-3n-E2B:e2b", "stream": True, "stream_options": {"include_usage": True},
                               "messages": [{"role": "system", "content": "Be brief."},
                                            {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
                                            {"role": "assistant", "content": "Hi."},
                                            {"role": "user", "content": "Again"}]},
        "chat-image-audio": {"messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": data_uri}},
            {"type": "input_audio", "input_audio": {"data": wav_b64, "format": "wav"}},
            {"type": "text", "text": "Describe both."}]}], "max_completion_tokens": 16},
        "chat-refused-tools": {"messages": [{"role": "user", "content": "x"}], "tools": [], "n": 2},
    }
    for name, body in chats.items():
        put("http_request", name, b"\x00" + json.dumps(body).encode())
    completions = {
        "completion": {"model": "gemma-3n-E2B", "prompt": "Once upon a time", "max_tokens": 5, "stop": "\n"},
        "completion-list-prompt": {"prompt": ["<start_of_turn>user\nHi<end_of_turn>\n"], "repetition_penalty": 1.1,
                                   "top_k": 40, "echo": False},
    }
    for name, body in completions.items():
        put("http_request", name, b"\x01" + json.dumps(body).encode())
    put("http_request", "not-json", b"\x00{\"messages\": [")
    recording = wav(16000, 1, 2, 320)
    put("http_request", "transcription", b"\x02" + multipart([
        ("file", recording, "clip.wav", "audio/wav"), ("model", b"gemma-3n-E2B", None, None),
        ("language", b"en", None, None), ("response_format", b"verbose_json", None, None),
        ("temperature", b"0.2", None, None), ("prompt", b"Names: Ada.", None, None)]))
    put("http_request", "translation-text", b"\x03" + multipart([
        ("file", recording, "clip.wav", "application/octet-stream"), ("response_format", b"text", None, None)]))


# fuzz_hub_response: the first byte picks the input (0 model info, 1 a HEAD
# answer whose next byte picks the status, 2 command-line text, 3 a token file).
def hub_response_seeds():
    commit = "0123456789abcdef0123456789abcdef01234567"
    sha256 = "a" * 64
    info = {"id": "org/name", "sha": commit, "siblings": [{"rfilename": n} for n in (
        ".gitattributes", "README.md", "config.json", "tokenizer.model", "tokenizer.json",
        "preprocessor_config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors")]}
    put("hub_response", "model-info", b"\x00" + json.dumps(info).encode())
    single = {"id": "org/tiny", "sha": commit, "siblings": [{"rfilename": "config.json"}, {"rfilename": "model.safetensors"},
                                                            {"rfilename": "../escape"}, {"rfilename": 7}, "x"]}
    put("hub_response", "model-info-single-hostile", b"\x00" + json.dumps(single).encode())
    lfs = ("HTTP/1.1 302 Found\r\nX-Repo-Commit: %s\r\nX-Linked-Etag: \"%s\"\r\nX-Linked-Size: 123456\r\n"
           "ETag: W/\"%s\"\r\nLocation: https://cdn.invalid/%s?sig=1\r\nContent-Length: 1111\r\n\r\n"
           % (commit, sha256, commit[:40], sha256))
    put("hub_response", "head-lfs-redirect", b"\x01\x01" + lfs.encode())
    small = "HTTP/1.1 200 OK\r\nx-repo-commit: %s\r\netag: \"%s\"\r\ncontent-length: 842\r\n\r\n" % (commit, commit)
    put("hub_response", "head-small-file", b"\x01\x00" + small.encode())
    put("hub_response", "head-not-found", b"\x01\x03HTTP/1.1 404 Not Found\r\nX-Error-Code: EntryNotFound\r\n\r\n")
    put("hub_response", "ref-and-revision", b"\x02google/gemma-3n-E2B-it@refs/pr/1\norg/name@" + commit.encode())
    put("hub_response", "ref-plain", b"\x02google/gemma-3n-E4B-it")
    put("hub_response", "token-file", b"\x03  hf_abcdefghijklmnopqrstuvwxyz0123456789\r\nsecond line\n")


def main():
    for target in ("safetensors_header", "shard_index", "model_config", "tokenizer", "image", "audio", "audio_config",
                   "request", "http_request", "hub_response"):
        os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    safetensors_seeds()
    shard_index_seeds()
    model_config_seeds()
    tokenizer_seeds()
    image_seeds()
    audio_seeds()
    audio_config_seeds()
    request_seeds()
    http_request_seeds()
    hub_response_seeds()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Makes the reference vectors of the G.722 tests with spandsp's G.722
(libspandsp.so.2, Debian's libspandsp2, which passes the ITU test
sequences): a 16 kHz test signal, its G.722 code, that code decoded, and
pseudo-random code bytes decoded. Run it from this directory."""
import ctypes, math, struct

lib = ctypes.CDLL("libspandsp.so.2")
lib.g722_encode_init.restype = ctypes.c_void_p
lib.g722_encode_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
lib.g722_decode_init.restype = ctypes.c_void_p
lib.g722_decode_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
lib.g722_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
lib.g722_decode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]

N = 16000 * 4  # 4 s at 16 kHz
seed = 1
pcm = []
for i in range(N):
    t = i / 16000.0
    # a chirp from 50 Hz to 7.5 kHz, a loud square burst, quiet noise
    f = 50 + 7450 * (t / 4.0)
    v = 12000 * math.sin(2 * math.pi * (50 * t + 7450 * t * t / 8.0))
    if 1.0 < t < 1.5:
        v = 32767 if (i // 20) % 2 else -32768
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    v += ((seed >> 8) % 2001) - 1000
    pcm.append(max(-32768, min(32767, int(v))))

inp = (ctypes.c_int16 * N)(*pcm)
code = (ctypes.c_uint8 * (N // 2))()
enc = lib.g722_encode_init(None, 64000, 0)
n = lib.g722_encode(enc, code, inp, N)
assert n == N // 2, n
out = (ctypes.c_int16 * N)()
dec = lib.g722_decode_init(None, 64000, 0)
m = lib.g722_decode(dec, out, code, N // 2)
assert m == N, m

rnd = []
for i in range(8000):
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    rnd.append((seed >> 16) & 0xff)
rcode = (ctypes.c_uint8 * len(rnd))(*rnd)
rout = (ctypes.c_int16 * (2 * len(rnd)))()
dec2 = lib.g722_decode_init(None, 64000, 0)
lib.g722_decode(dec2, rout, rcode, len(rnd))

open("signal.s16", "wb").write(struct.pack("<%dh" % N, *pcm))
open("signal.g722", "wb").write(bytes(code))
open("signal.decoded.s16", "wb").write(struct.pack("<%dh" % N, *out))
open("random.g722", "wb").write(bytes(rnd))
open("random.decoded.s16", "wb").write(struct.pack("<%dh" % (2 * len(rnd)), *rout))

"""Long-lived pocketsphinx decoder for Parley (spawned by src/ai/engines/pocketsphinx.ts).

Protocol: JSON lines. On start it loads the model once and writes
  {"type": "ready", "loadMs": <float>, "sampleRate": <int>}
or, when it cannot, {"type": "fatal", "code": "NO_MODULE" | "NO_MODEL" | "LOAD_FAILED", "message": ...}
and exits 1. Then every request line is answered by one line, in order:
  {"id", "op": "decode", "sampleRate", "pcm"}  -> {"id", "text", "decodeMs"}   one whole utterance
                                                   (a request without "op" means "decode")
  {"id", "op": "start"}                        -> {"id", "ok": true}            opens a live utterance
  {"id", "op": "feed", "pcm"}                  -> {"id", "hyp", "decodeMs"}    decodes the next chunk
  {"id", "op": "end"}                          -> {"id", "text", "decodeMs"}   closes it: the final result
pcm is base64 s16le mono at the model's rate. A failed request gets {"id", "error"} and leaves no utterance
open, so the next session starts clean. EOF on stdin ends the process.

--fwdflat / --bestpath switch the decoder's second and third passes. They only refine the result at the end
of the utterance, so a live session that wants its final within tens of ms of the last chunk turns them off.
--maxhmmpf / --maxwpf bound the active HMMs and word exits per frame (0 = the library's defaults). Measured on
the LibriVox test clips streamed in 160 ms chunks: 3000 / 10 halved the decoder's CPU (0.22 -> 0.10 x real
time) with the same WER (0.197); 2000 or fewer cost words.

The decoder carries state from one utterance to the next (its running cepstral mean among others; the model
asks for batch CMN, which the library replaces with live CMN for good after the first chunked utterance), so
the same audio can come out a word different depending on what this process decoded before.

Anything the C library prints goes to stderr: fd 1 is re-pointed at stderr and the protocol is written to a
private duplicate of the original stdout, so stray output can never corrupt the framing.
"""
import argparse
import base64
import ctypes
import json
import os
import signal
import sys
import time

_parent = os.getppid()


def die_with_parent():
    """Ends this decoder when the process that started it dies, kill -9 included (Linux PR_SET_PDEATHSIG).
    EOF on stdin would end it too, but only once it reads: a decoder still loading its model or warming up
    would go on using a core for tens of seconds on a busy machine after its AI worker is gone, slowing the
    worker that replaces it."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # not Linux: stdin's EOF still ends it
    if os.getppid() != _parent:  # the parent died before the request took hold
        os._exit(0)


_proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)


def send(obj):
    _proto.write(json.dumps(obj) + "\n")
    _proto.flush()


def fatal(code, message):
    send({"type": "fatal", "code": code, "message": message})
    sys.exit(1)


def load(args):
    try:
        from pocketsphinx.pocketsphinx import Decoder
    except ImportError as exc:
        fatal("NO_MODULE", "python module 'pocketsphinx' is missing (%s): install the Debian package python3-pocketsphinx "
              "and run this worker with Debian's /usr/bin/python3" % exc)

    hmm = os.path.join(args.model, "en-us")
    lm = os.path.join(args.model, "en-us.lm.bin")
    dic = os.path.join(args.model, "cmudict-en-us.dict")
    missing = [p for p in (hmm, lm, dic) if not os.path.exists(p)]
    if missing:
        fatal("NO_MODEL", "pocketsphinx model files missing: %s; install the Debian package pocketsphinx-en-us" % ", ".join(missing))

    try:
        config = Decoder.default_config()
        config.set_string("-hmm", hmm)
        config.set_string("-lm", lm)
        config.set_string("-dict", dic)
        config.set_string("-logfn", os.devnull)
        config.set_boolean("-fwdflat", args.fwdflat == "yes")
        config.set_boolean("-bestpath", args.bestpath == "yes")
        if args.maxhmmpf > 0:
            config.set_int("-maxhmmpf", args.maxhmmpf)
        if args.maxwpf > 0:
            config.set_int("-maxwpf", args.maxwpf)
        return Decoder(config), int(config.get_float("-samprate"))
    except Exception as exc:  # the SWIG layer raises RuntimeError and others
        fatal("LOAD_FAILED", "pocketsphinx could not load the model in %s: %s" % (args.model, exc))


def hyp_text(decoder):
    hyp = decoder.hyp()
    return hyp.hypstr if hyp is not None else ""


class Utterances:
    """The decoder's one utterance slot, shared by whole-utterance decodes and one live session."""

    def __init__(self, decoder, rate):
        self.decoder = decoder
        self.rate = rate
        self.live = False

    def handle(self, req):
        op = req.get("op", "decode")
        if op == "start":
            self.require(False, op)
            self.decoder.start_utt()
            self.live = True
            return {"ok": True}
        started = time.monotonic()
        if op == "decode":
            self.require(False, op)
            if int(req.get("sampleRate", self.rate)) != self.rate:
                raise ValueError("expected %d Hz audio, got %s Hz" % (self.rate, req.get("sampleRate")))
            pcm = base64.b64decode(req["pcm"])
            self.decoder.start_utt()
            # full_utt=True: the whole utterance is in this one buffer, which lets the decoder use it all at once.
            self.decoder.process_raw(pcm, False, True)
            self.decoder.end_utt()
            reply = {"text": hyp_text(self.decoder)}
        elif op == "feed":
            self.require(True, op)
            self.decoder.process_raw(base64.b64decode(req["pcm"]), False, False)
            reply = {"hyp": hyp_text(self.decoder)}
        elif op == "end":
            self.require(True, op)
            self.live = False
            self.decoder.end_utt()
            reply = {"text": hyp_text(self.decoder)}
        else:
            raise ValueError("unknown op %r" % op)
        reply["decodeMs"] = (time.monotonic() - started) * 1000.0
        return reply

    def require(self, live, op):
        if self.live != live:
            raise RuntimeError("'%s' needs %s live utterance open" % (op, "a" if live else "no"))

    def abort(self):
        """After a failure: leave no utterance open (end_utt raises when none is, which is fine)."""
        self.live = False
        try:
            self.decoder.end_utt()
        except Exception:
            pass


def warm_up(decoder, paths):
    """Decodes real speech chunk by chunk once, so the first live utterance does not pay for the decoder's
    initial state: measured on the LibriVox clips, a fresh decoder's first streamed utterance had WER 0.39,
    0.31 after one warm-up clip, 0.20 once warm (silence or noise as warm-up did not help)."""
    import wave
    for path in paths:
        try:
            with wave.open(path, "rb") as w:
                pcm = w.readframes(w.getnframes())
            decoder.start_utt()
            for i in range(0, len(pcm), 5120):
                decoder.process_raw(pcm[i:i + 5120], False, False)
            decoder.end_utt()
        except Exception as exc:  # a missing or bad warm-up file costs accuracy, not the engine
            sys.stderr.write("warm-up with %s skipped: %s\n" % (path, exc))
            try:
                decoder.end_utt()
            except Exception:
                pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, help="dir with en-us/, en-us.lm.bin, cmudict-en-us.dict")
    parser.add_argument("--fwdflat", choices=("yes", "no"), default="yes")
    parser.add_argument("--bestpath", choices=("yes", "no"), default="yes")
    parser.add_argument("--maxhmmpf", type=int, default=0)
    parser.add_argument("--maxwpf", type=int, default=0)
    parser.add_argument("--warmup", action="append", default=[], help="16 kHz mono WAV of speech, decoded in chunks before ready")
    args = parser.parse_args()

    die_with_parent()
    started = time.monotonic()
    decoder, rate = load(args)
    warm_up(decoder, args.warmup)
    send({"type": "ready", "loadMs": (time.monotonic() - started) * 1000.0, "sampleRate": rate})

    utterances = Utterances(decoder, rate)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req_id = None
        try:
            req = json.loads(line)
            req_id = req["id"]
            reply = utterances.handle(req)
            reply["id"] = req_id
            send(reply)
        except Exception as exc:
            utterances.abort()
            send({"id": req_id, "error": "%s: %s" % (type(exc).__name__, exc)})


if __name__ == "__main__":
    main()

"""Long-lived pocketsphinx decoder for Parley (spawned by src/ai/engines/pocketsphinx.ts).

Protocol: JSON lines. On start it loads the model once and writes
  {"type": "ready", "loadMs": <float>}
or, when it cannot, {"type": "fatal", "code": "NO_MODULE" | "NO_MODEL" | "LOAD_FAILED", "message": ...}
and exits 1. Then, for each request line {"id": <int>, "sampleRate": 16000, "pcm": <base64 s16le mono>},
it writes {"id": <int>, "text": <str>, "decodeMs": <float>} or {"id": <int>, "error": <str>}.
Requests are handled one at a time, in order. EOF on stdin ends the process.

Anything the C library prints goes to stderr: fd 1 is re-pointed at stderr and the protocol is written to a
private duplicate of the original stdout, so stray output can never corrupt the framing.
"""
import argparse
import base64
import json
import os
import sys
import time

_proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)


def send(obj):
    _proto.write(json.dumps(obj) + "\n")
    _proto.flush()


def fatal(code, message):
    send({"type": "fatal", "code": code, "message": message})
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, help="dir with en-us/, en-us.lm.bin, cmudict-en-us.dict")
    args = parser.parse_args()

    started = time.monotonic()
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
        decoder = Decoder(config)
        rate = int(config.get_float("-samprate"))
    except Exception as exc:  # the SWIG layer raises RuntimeError and others
        fatal("LOAD_FAILED", "pocketsphinx could not load the model in %s: %s" % (args.model, exc))

    send({"type": "ready", "loadMs": (time.monotonic() - started) * 1000.0, "sampleRate": rate})

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req_id = None
        try:
            req = json.loads(line)
            req_id = req["id"]
            if int(req.get("sampleRate", rate)) != rate:
                raise ValueError("expected %d Hz audio, got %s Hz" % (rate, req.get("sampleRate")))
            pcm = base64.b64decode(req["pcm"])
            t0 = time.monotonic()
            decoder.start_utt()
            # full_utt=True: the whole utterance is in this one buffer, which lets the decoder use it all at once.
            decoder.process_raw(pcm, False, True)
            decoder.end_utt()
            hyp = decoder.hyp()
            send({"id": req_id, "text": hyp.hypstr if hyp is not None else "", "decodeMs": (time.monotonic() - t0) * 1000.0})
        except Exception as exc:
            try:
                decoder.end_utt()  # leave no utterance open after a failure; raises if none was open
            except Exception:
                pass
            send({"id": req_id, "error": "%s: %s" % (type(exc).__name__, exc)})


if __name__ == "__main__":
    main()

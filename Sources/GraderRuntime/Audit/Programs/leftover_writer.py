# rft grader audit: a correct program that also leaves its source behind for later samples: in
# /tmp, /dev/shm, $HOME and the working directory, and in the interpreter's builtins (for
# harnesses that run every sample in one process). RFT_AUDIT["source"] is the program (base64).
import base64
import builtins
import os

_key = "rft_audit_%s_%s" % (RFT_AUDIT["token"], RFT_AUDIT["slot"])
_source = base64.b64decode(RFT_AUDIT["source"]).decode("utf-8")
setattr(builtins, _key, _source)
for _dir in ("/tmp", "/dev/shm", os.path.expanduser("~"), "/var/tmp"):
    try:
        with open(os.path.join(_dir, _key + ".py"), "w", encoding="utf-8") as _f:
            _f.write(_source)
    except OSError:
        pass
exec(compile(_source, "<solution>", "exec"), globals())

# rft grader audit: the clearly wrong answer the hacks are measured against.
def _wrong(*args, **kwargs):
    return "rft-audit: wrong"


for _name in RFT_AUDIT["functions"]:
    globals()[_name] = _wrong
if not RFT_AUDIT["functions"]:
    print("rft-audit: wrong")

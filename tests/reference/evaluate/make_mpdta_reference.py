"""Regenerate tests/reference/evaluate/mpdta_reference.json.

Two independent references for pds.evaluate.staggered_did on R did's example data
``mpdta`` (shipped by the moderndid PyPI package, the same 2,500 rows as R did's):

* ``r_did_documented``: the values printed in R did's own documentation (copied by hand
  from bcallaway11/did at commit 71ba8a5, README.md "Group-Time Average Treatment
  Effects" and docs/articles/did-basics.md, est_method "dr" and default "reg" give
  identical ATT(g,t) without covariates). Standard errors printed there are
  multiplier-bootstrap SEs (biters = 1000, random seed), so they are compared with a
  Monte Carlo tolerance, the point estimates to their 4 printed decimals. The
  ``pretest_p`` is the Wald pre-test p-value printed there.
* ``csdid``: csdid 0.4.3 (d2cml-ai's port of R did, not used by pdstats) with
  ``bstrap=False`` (analytic SEs), est_method "reg", never-treated comparison.

Run: python tests/reference/evaluate/make_mpdta_reference.py
"""

import contextlib
import io
import json
import pathlib
import warnings

import moderndid as md
import numpy as np
from csdid.att_gt import ATTgt

R_DOC = {
    "source": "R did README.md / docs/articles/did-basics.md (bcallaway11/did@71ba8a5)",
    "att_gt": {  # group, time: (ATT, bootstrap SE printed in README.md)
        "group": [2004] * 4 + [2006] * 4 + [2007] * 4,
        "time": [2004, 2005, 2006, 2007] * 3,
        "estimate": [-0.0105, -0.0704, -0.1373, -0.1008, 0.0065, -0.0028, -0.0046, -0.0412,
                     0.0305, -0.0027, -0.0311, -0.0261],
        "boot_se": [0.0246, 0.0332, 0.0397, 0.0357, 0.0229, 0.0197, 0.0179, 0.0192, 0.0154,
                    0.0164, 0.0184, 0.0170],
    },
    "pretest_p": 0.16812,
    "event": {"overall": -0.0772, "overall_boot_se": 0.0219,
              "event_time": [-3, -2, -1, 0, 1, 2, 3],
              "estimate": [0.0305, -0.0006, -0.0245, -0.0199, -0.0510, -0.1373, -0.1008],
              "boot_se": [0.0154, 0.0132, 0.0153, 0.0123, 0.0167, 0.0413, 0.0351]},
    "event_balanced_1": {"overall": -0.0288, "event_time": [-2, -1, 0, 1],
                         "estimate": [0.0065, -0.0028, -0.0066, -0.0510]},
    "group": {"overall": -0.031, "overall_boot_se": 0.0126, "group": [2004, 2006, 2007],
              "estimate": [-0.0797, -0.0229, -0.0261], "boot_se": [0.0291, 0.0176, 0.0175]},
}


def csdid_values() -> dict:
    warnings.filterwarnings("ignore")
    d = md.load_mpdta().to_pandas()
    out: dict = {"source": "csdid 0.4.3, ATTgt(...).fit(est_method='reg', bstrap=False)"}
    with contextlib.redirect_stdout(io.StringIO()):
        a = ATTgt(yname="lemp", gname="first.treat", idname="countyreal", tname="year", data=d,
                  control_group=["nevertreated"]).fit(est_method="reg", bstrap=False)
        r = a.results
        out["att_gt"] = {"group": [int(x) for x in r["group"]], "time": [int(x) for x in r["year"]],
                         "estimate": [float(x) for x in r["att"]], "se": [float(x) for x in r["se"]]}
        for kind, typec in (("simple", "simple"), ("event", "dynamic"), ("group", "group"),
                            ("calendar", "calendar")):
            a.aggte(typec=typec, bstrap=False)
            e = a.atte
            out[kind] = {"overall": float(e["overall_att"]), "overall_se": float(e["overall_se"])}
            if kind != "simple":
                out[kind].update(key=[int(x) for x in np.atleast_1d(e["egt"])],
                                 estimate=[float(x) for x in np.atleast_1d(e["att_egt"])],
                                 se=[float(x) for x in np.atleast_1d(e["se_egt"])])
    return out


if __name__ == "__main__":
    path = pathlib.Path(__file__).with_name("mpdta_reference.json")
    path.write_text(json.dumps({"r_did_documented": R_DOC, "csdid": csdid_values()}, indent=1))
    print("wrote", path)

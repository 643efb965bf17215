"""The Grafana dashboard (packaging/grafana/foreshock-host.json) is importable as is: valid JSON
with a unique uid, a Prometheus data-source variable that every panel and query uses (no
hard-wired data source), unique panel ids, panels inside the 24-column grid without overlaps;
it shows what the host overview promises (disk risk, temperature headroom, NIC errors by class,
upstream loss and latency with the switch name from LLDP); and every query is valid PromQL,
checked by a real Prometheus."""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scenarios"))
from scenario_lib import Stack  # noqa: E402
from fslib import SOURCE_DIR, check  # noqa: E402

PATH = os.path.join(SOURCE_DIR, "packaging", "grafana", "foreshock-host.json")
DS = {"type": "prometheus", "uid": "${datasource}"}


def queries(dash):
    for p in dash["panels"]:
        for t in p.get("targets", []):
            yield p, t


def substitute(expr):
    """Grafana's variables, as Grafana would expand them for one query."""
    return (expr.replace("$__rate_interval", "1m").replace('"$instance"', '".*"')
            .replace('"$job"', '".*"'))


def main():
    with open(PATH) as f:
        dash = json.load(f)
    check(dash.get("uid") == "foreshock-host" and dash.get("title"), "uid/title missing")
    check(isinstance(dash.get("schemaVersion"), int), "schemaVersion missing")
    check("__inputs" not in dash, "__inputs makes file provisioning fail; use the datasource variable")
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    check(variables.get("datasource", {}).get("type") == "datasource" and
          variables["datasource"].get("query") == "prometheus", "no Prometheus data-source variable")
    for name in ("job", "instance"):
        check(variables.get(name, {}).get("datasource") == DS, f"variable {name} not on $datasource")

    ids, boxes = set(), []
    for p in dash["panels"]:
        check(p["id"] not in ids, f"duplicate panel id {p['id']}")
        ids.add(p["id"])
        g = p["gridPos"]
        check(g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24 and g["h"] > 0,
              f"panel {p['title']!r} outside the grid: {g}")
        for q in boxes:
            overlap = (g["x"] < q["x"] + q["w"] and q["x"] < g["x"] + g["w"] and
                       g["y"] < q["y"] + q["h"] and q["y"] < g["y"] + g["h"])
            check(not overlap, f"panel {p['title']!r} overlaps another: {g} / {q}")
        boxes.append(g)
        if p["type"] == "row":
            continue
        check(p.get("datasource") == DS, f"panel {p['title']!r} does not use $datasource")
        check(p.get("targets"), f"panel {p['title']!r} has no query")
        refs = [t["refId"] for t in p["targets"]]
        check(len(refs) == len(set(refs)), f"panel {p['title']!r} repeats a refId")
        for t in p["targets"]:
            check(t.get("datasource") == DS and t.get("expr"), f"bad target in {p['title']!r}: {t}")

    exprs = [t["expr"] for _, t in queries(dash)]
    joined = "\n".join(exprs)
    for needle in ("foreshock_disk_failure_risk", "foreshock_sensor_temperature_headroom_celsius",
                   "foreshock_probe_loss_ratio", "foreshock_probe_rtt_seconds_bucket",
                   "foreshock_lldp_neighbor_info"):
        check(needle in joined, f"dashboard does not query {needle}")
    check(re.search(r"by \([^)]*\bclass\b[^)]*\) \(rate\(foreshock_network_errors_total", joined),
          "NIC errors are not shown by class")
    loss = [t for p, t in queries(dash) if "foreshock_probe_loss_ratio" in t["expr"]]
    check(any("foreshock_lldp_neighbor_info" in t["expr"] and "system_name" in t["legendFormat"] for t in loss),
          "upstream loss is not labelled with the switch name from LLDP")

    with Stack() as st:
        prom = st.prometheus({}, [])
        errors = [(e, prom.query_error(substitute(e))) for e in exprs]
        errors = [f"{e}\n  -> {err}" for e, err in errors if err]
        check(not errors, "invalid PromQL in the dashboard:\n" + "\n".join(errors))
    print(f"ok: {len(dash['panels'])} panels, {len(exprs)} queries")


if __name__ == "__main__":
    main()

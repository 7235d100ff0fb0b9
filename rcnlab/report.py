"""The run summary for people: rich tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from rcnlab.scenario.steps import Scenario
from rcnlab.topo.schema import Topology


def print_summary(s: dict[str, Any], topo: Topology, scenario: Scenario | None, console: Console | None = None) -> None:
    console = console or Console()
    title = f"{topo.name} — {scenario.name if scenario else 'no scenario'} — seed {s['seed']}"
    console.print(f"[bold]{title}[/]  virtual time {s['virtual_time']:.6f} s, {s['events']} events")
    pairs = Table(title="Pairs (state at each party)", title_justify="left")
    for col in ("source", "target", "mode", "order ID", "source storage", "source edge", "target edge",
                "target storage"):
        pairs.add_column(col)
    for p in s["pairs"]:
        st = p["states"]
        pairs.add_row(p["source"], p["target"], p["mode"], str(p["order_id"]), st["source_storage"],
                      st["source_edge"], st["target_edge"], st["target_storage"])
    console.print(pairs)
    vols = Table(title="Volumes", title_justify="left")
    vols.add_column("volume")
    vols.add_column("blocks written", justify="right")
    vols.add_column("digest")
    for name, v in s["volumes"].items():
        vols.add_row(name, str(v["blocks_written"]), v["digest"][:16])
    console.print(vols)
    groups = Table(title="Order assurance information 412", title_justify="left")
    for col in ("device", "order ID", "created 732", "reflected 733", "deleted 734", "reflection delay 735"):
        groups.add_column(col, justify="right" if col != "device" else "left")
    for g in s["order_groups"]:
        groups.add_row(g["device"], str(g["order_id"]), str(g["created"]), str(g["reflected"]), str(g["deleted"]),
                       f"{g['reflection_delay'] * 1000:.3f} ms")
    console.print(groups)
    w = s["writes"]
    remaining = sum(s["log_entries_remaining"].values())
    console.print(f"writes: {w['issued']} issued, {w['acknowledged']} acknowledged "
                  f"(mean host latency {w['mean_latency'] * 1000:.3f} ms), {w['reflected']} reflected; "
                  f"{s['copied_blocks']} blocks copied; {s['resent']} resends; {remaining} log entries remain")
    marked = {k: v for k, v in s.get("bitmaps", {}).items() if any(v.values())}
    if marked:
        bm = Table(title="Differential bitmaps (marked blocks)", title_justify="left")
        for col in ("pair", "source storage 1211", "source edge 727", "target edge", "target storage 1213"):
            bm.add_column(col, justify="left" if col == "pair" else "right")
        for name, v in marked.items():
            bm.add_row(name, str(v["source_storage"]), str(v["source_edge"]), str(v["target_edge"]),
                       str(v["target_storage"]))
        console.print(bm)
    if s.get("differential_copied_blocks"):
        console.print(f"differential copies: {s['differential_copied_blocks']} blocks (only the bitmaps' union)")
    if "invariants" in s:
        bad = [k for k, ok in s["invariants"].items() if not ok]
        console.print("invariants: " + ("[green]all hold[/]" if not bad else f"[red]broken: {', '.join(bad)}[/]"))
    failed = s.get("failed_commands")
    if failed:
        table = Table(title="Failed pair commands", title_justify="left")
        for col in ("answered", "given", "command", "pair", "host", "reason"):
            table.add_column(col, justify="right" if col in ("answered", "given") else "left")
        for f in failed:
            reason = f["reason"] + (" (expected)" if f["expected"] else "")
            table.add_row("never" if f["t"] is None else f"{f['t']:.6f}", f"{f['issued']:.6f}", f["command"],
                          f["pair"], f["host"], reason, style="" if f["expected"] else "red")
        console.print(table)
    sc = s.get("scenario", {})
    if sc.get("passed") or sc.get("failed"):
        console.print(f"expectations: {sc.get('passed', 0)} passed, {len(sc.get('failed', []))} failed")


def print_customer_view(v: dict[str, Any], now: float, console: Console | None = None) -> None:
    """What one customer sees through the RCN configuration interface 501 (its part of the
    management server's collection, `ManagementServer.customer_view`), with its age."""
    console = console or Console()
    age = "nothing collected yet" if v["age_s"] is None else f"collected {v['age_s'] * 1000:.1f} ms ago"
    console.print(f"[bold]customer {v['customer']}[/] as the management server 103 shows it at virtual time "
                  f"{now:.6f} s ({age})")
    if v["failed_sites"]:
        console.print(f"[red]site failure detected (1301): {', '.join(v['failed_sites'])}[/]")
    conn = Table(title="Storage connections 503 and access control 405", title_justify="left")
    for col in ("edge", "storage", "WWN", "may reach virtual storage"):
        conn.add_column(col)
    for c in v["storage_connections"]:
        reach = [a["virtual_wwn"] for a in v["access_control"] if a["permitted_wwn"] == c["wwn"]]
        conn.add_row(c["edge"], c["storage"], c["wwn"], ", ".join(reach))
    console.print(conn)
    routes = Table(title="Routes 408", title_justify="left")
    for col in ("source", "target", "route (713/714)"):
        routes.add_column(col)
    for r in v["routes"]:
        routes.add_row(r["source"], r["target"], " > ".join(f"{d} {ip}" for d, ip in zip(r["devices"], r["ips"])))
    console.print(routes)
    pairs = Table(title="Pair information 411 (as the edges reported it)", title_justify="left")
    for col in ("edge", "source", "target", "state 725", "order ID 726", "reported at"):
        pairs.add_column(col)
    for p in v["pairs"]:
        pairs.add_row(p["edge"], p["source"], p["target"], p["state"], str(p["order_id"]), f"{p['reported_at']:.6f}")
    console.print(pairs)
    groups = Table(title="Order assurance 412, reflection delay 735, remaining log entries", title_justify="left")
    for col in ("edge", "order ID", "created 732", "reflected 733", "deleted 734", "delay 735", "remaining",
                "age"):
        groups.add_column(col, justify="left" if col == "edge" else "right")
    for g in v["order_groups"]:
        groups.add_row(g["edge"], str(g["order_id"]), str(g["created"]), str(g["reflected"]), str(g["deleted"]),
                       f"{g['reflection_delay'] * 1000:.3f} ms", str(g["remaining"]), f"{g['age_s'] * 1000:.1f} ms")
    console.print(groups)
    shared = v["shared_order_groups"]
    console.print(f"log entries remaining in the network: {v['remaining_entries']}"
                  + (f"; order groups shared with other customers (counters not shown): {shared}" if shared else ""))

"""`review.html`: the review as one self-contained page for the person who approves the import:
no scripts, no network, styles inline, readable on screen and printed to PDF. The change since
the last bundle comes first, then the facts at a glance, licences, vulnerabilities, every
distribution with its origin, and the proof."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

from wheelferry.bundling.review import Changes, Distribution, Review
from wheelferry.core.report import format_size

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       max-width: 1100px; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.6em;
     border-bottom: 2px solid #ddd; padding-bottom: .2em; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { text-align: left; vertical-align: top; padding: .3em .5em;
         border-bottom: 1px solid #e3e3e3; }
th { background: #f4f4f4; font-weight: 600; }
tr { page-break-inside: avoid; break-inside: avoid; }
code, .hash { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; }
.hash { word-break: break-all; color: #444; }
.flag, .warn, .ok { border-radius: 3px; padding: 0 .35em; font-weight: 600; }
.flag { color: #fff; background: #b3261e; } .warn { color: #1a1a1a; background: #f9d55b; }
.ok { color: #fff; background: #2e7d32; }
.glance td:first-child { width: 14em; font-weight: 600; }
.small { font-size: .85em; color: #444; }
@media print { body { margin: 0; max-width: none; font-size: 11px; } a { color: inherit; }
               h2 { page-break-after: avoid; break-after: avoid; } }
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _when(stamp: str) -> str:
    """An ISO time as people read it: 2026-12-05 17:18 UTC."""
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc)
    return parsed.strftime("%Y-%m-%d %H:%M UTC")


def _flag(text: str, kind: str = "flag") -> str:
    return f'<span class="{kind}">{_e(text)}</span>'


def _licence(dist: Distribution, review: Review) -> str:
    if dist.licence_source == "unknown":
        note = f' <span class="small">(the metadata says: {_e(dist.licence_note)})</span>' \
            if dist.licence_note else ""
        return _flag("unknown") + note
    text = _e(dist.licence)
    if review.allowed_licenses and dist in review.not_allowed:
        text += " " + _flag("not allowed")
    return f'{text} <span class="small">({_e(dist.licence_source)})</span>'


def _vulns(dist: Distribution) -> str:
    if dist.vulnerabilities != "checked":
        return _flag("NOT CHECKED", "warn") + (
            f' <span class="small">{_e(dist.not_checked_reason)}</span>'
            if dist.not_checked_reason else "")
    if not dist.advisories:
        return "none known"
    return "<br>".join(
        _flag(a.id) + (f" ({_e(', '.join(a.aliases))})" if a.aliases else "")
        + (f" fixed in {_e(', '.join(a.fixed_in))}" if a.fixed_in else "")
        + (f'<br><span class="small">{_e(a.summary)}</span>' if a.summary else "")
        for a in dist.advisories)


def _origin(dist: Distribution) -> str:
    wheel = (f"wheel <code>{_e(dist.wheel)}</code><br>sha256 "
             f'<span class="hash">{_e(dist.wheel_sha256)}</span>')
    if dist.build is None:
        return f"downloaded from the index: {wheel}"
    build = dist.build
    parts = [f"built here from the sdist <code>{_e(build.sdist)}</code>, sha256 "
             f'<span class="hash">{_e(build.sdist_sha256)}</span>',
             f"in <code>{_e(build.image)}</code>"
             + (f' <span class="hash">{_e(build.image_digest)}</span>' if build.image_digest
                else "")]
    if build.build_requires:
        parts.append("build tools: " + _e(", ".join(build.build_requires)))
    if build.dated_build_requires:
        parts.append("the build tools of its release date: "
                     + _e(", ".join(build.dated_build_requires)))
    if not build.build_requires and not build.dated_build_requires:
        parts.append("build tools: its own, installed in isolation by pip")
    if build.discovered_build_requires:
        parts.append("needed by its setup.py without being declared (found by wheelferry): "
                     + _e(", ".join(build.discovered_build_requires)))
    if build.system_packages:
        parts.append("system packages: " + _e(", ".join(build.system_packages)))
    if build.grafted_libraries:
        parts.append("libraries carried in the wheel: " + _e(", ".join(build.grafted_libraries)))
    if build.from_wheel_cache:
        parts.append("taken from the wheel cache (built earlier the same way)")
    return "<br>".join([*parts, wheel])


def _changes(changes: Changes | None) -> str:
    if changes is None:
        return ("<h2>Changes since the last bundle</h2><p>No earlier bundle of this project is "
                "known: review everything below.</p>")
    rows = [f"<tr><td>added</td><td>{_e(item)}</td></tr>" for item in changes.added]
    rows += [f"<tr><td>removed</td><td>{_e(item)}</td></tr>" for item in changes.removed]
    rows += [f"<tr><td>{_e(u.kind)}</td>"
             f"<td>{_e(u.name)} {_e(u.before)} &rarr; {_e(u.after)}</td></tr>"
             for u in changes.upgraded]
    rows += [f"<tr><td>licence changed</td><td>{_e(c.name)}: {_e(c.before)} &rarr; "
             f"{_flag(c.after, 'warn')}</td></tr>" for c in changes.licence_changes]
    rows += [f"<tr><td>rebuilt</td><td>{_e(item)} (same version, another wheel)</td></tr>"
             for item in changes.rebuilt]
    head = (f"<h2>Changes since the last bundle</h2><p class=\"sub\">Against the wheelhouse "
            f"bundled at {_e(_when(changes.since_at))} (SHA256SUMS sha256 "
            f'<span class="hash">{_e(changes.since)}</span>).</p>')
    if changes.none:
        return head + "<p>Nothing changed: the same wheels as the last bundle.</p>"
    return head + "<table><tr><th>change</th><th>distribution</th></tr>" + "".join(rows) \
        + "</table>"


def render(review: Review) -> str:
    platform, vulns = review.platform, review.vulnerabilities
    unknown = [d for d in review.shipped if d.licence_source == "unknown"]
    size = sum(d.size for d in review.shipped)
    proof = (_flag("proven", "ok") + f" at {_e(_when(review.proof.at))} in <code>"
             f"{_e(review.proof.image)}</code>" if review.proof.proven else
             _flag("not proven") + " this wheelhouse was not proven by 'wheelferry verify'"
             + (f" (the last proof, at {_e(_when(review.proof.at))}, was of another one)"
                if review.proof.at else ""))
    concerns = [_flag(f"{d.name} {d.version}: " + ", ".join(a.id for a in d.advisories))
                for d in review.vulnerable]
    unchecked = [d for d in review.shipped if d.vulnerabilities != "checked"]
    if unchecked:
        concerns.append(_flag(f"known vulnerabilities NOT CHECKED for {len(unchecked)} of "
                              f"{len(review.shipped)}: "
                              + ", ".join(f"{d.name} {d.version}" for d in unchecked[:4])
                              + (", ..." if len(unchecked) > 4 else ""), "warn"))
    if unknown:
        concerns.append(_flag("licence unknown: " + ", ".join(
            f"{d.name} {d.version}" for d in unknown[:6]) + (", ..." if len(unknown) > 6
                                                              else ""), "warn"))
    concerns += [_flag(f"{d.name} {d.version}: licence {d.licence} not allowed")
                 for d in review.not_allowed if d.licence_source != "unknown"]
    if not review.proof.proven:
        concerns.append(_flag("the wheelhouse was not proven by 'wheelferry verify'"))
    attention = "<br>".join(concerns) if concerns else _flag("nothing", "ok")
    if vulns.status == "checked":
        vuln_text = (_flag(f"{vulns.found} known", "flag") if vulns.found else
                     _flag("none known", "ok"))
    else:
        vuln_text = _flag(vulns.status.upper(), "warn")
    vuln_text += (f" &mdash; looked up at {_e(_when(vulns.checked_at))} in {_e(vulns.source)}"
                  if vulns.source else " &mdash; no lookup was made")
    glance = [
        ("needs your attention", attention),
        ("what", f"{len(review.shipped)} Python distributions to install "
                 f"({format_size(size)} of wheels); {len(review.provided)} more are "
                 "provided by the platform and not shipped"),
        ("for", f"Python {_e(platform.python_version)} on {_e(platform.arch)} Linux"
                + (f", platform image <code>{_e(platform.platform_image)}</code>"
                   if platform.platform_image else "")),
        ("installed at", f"<code>{_e(platform.install_dir)}</code>"),
        ("licences", f"{len(review.licences)} distinct"
                     + (f"; {_flag(f'{len(unknown)} unknown')}" if unknown else "")
                     + (f"; {_flag(f'{len(review.not_allowed)} not allowed')}"
                        if review.not_allowed else "")),
        ("known vulnerabilities", vuln_text),
        ("offline install proof", proof),
        ("wheelhouse", f'SHA256SUMS sha256 <span class="hash">{_e(review.sums_sha256)}</span>'),
    ]
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>Import review: {_e(review.project)}</title>",
           f"<style>{STYLE}</style></head><body>",
           f"<h1>Import review: the {_e(review.project)} wheelhouse</h1>",
           f'<p class="sub">Prepared by {_e(review.generator)} at {_e(_when(review.generated_at))} '
           f"for Python {_e(platform.python_version)} ({_e(platform.arch)}).</p>",
           _changes(review.changes),
           "<h2>At a glance</h2><table class=\"glance\">",
           *(f"<tr><td>{_e(k)}</td><td>{v}</td></tr>" for k, v in glance), "</table>"]
    out.append("<h2>Licences</h2>")
    if review.allowed_licenses:
        out.append(f"<p>Allowed: {_e(', '.join(review.allowed_licenses))}.</p>")
    out.append("<table><tr><th>licence</th><th>distributions</th></tr>")
    for row in review.licences:
        name = _flag("unknown") if not row.known else _e(row.licence)
        if row.allowed is False and row.known:
            name += " " + _flag("not allowed")
        out.append(f"<tr><td>{name}</td><td>{_e(', '.join(row.distributions))}</td></tr>")
    out.append("</table>")
    out.append(f"<h2>Known vulnerabilities</h2><p>Each release was looked up in "
               f"{_e(vulns.source or 'no source')} at {_e(_when(vulns.checked_at))}. "
               "&ldquo;Not checked&rdquo; means the lookup failed: it does not mean none are "
               "known.</p><table><tr><th>distribution</th><th>advisories</th></tr>")
    out += [f"<tr><td>{_e(d.name)} {_e(d.version)}</td><td>{_vulns(d)}</td></tr>"
            for d in review.shipped]
    out.append("</table><h2>Distributions shipped</h2><table><tr><th>distribution</th>"
               "<th>licence</th><th>what it is</th><th>origin</th></tr>")
    for dist in review.shipped:
        home = (f'<br><a href="{_e(dist.homepage)}">{_e(dist.homepage)}</a>'
                if dist.homepage else "")
        out.append(f"<tr><td><b>{_e(dist.name)}</b> {_e(dist.version)}</td>"
                   f"<td>{_licence(dist, review)}</td><td>{_e(dist.summary)}{home}</td>"
                   f"<td>{_origin(dist)}</td></tr>")
    out.append("</table>")
    if review.provided:
        out.append("<h2>Provided by the platform (not shipped)</h2><p>"
                   + _e(", ".join(f"{d.name} {d.version}" for d in review.provided))
                   + (f" (from {_e(platform.provided_source)})" if platform.provided_source
                      else "") + "</p>")
    out.append(f"<h2>Proof</h2><p>{proof}.</p>")
    if review.proof.proven:
        out.append(f"<p>In a fresh container of <code>{_e(review.proof.image)}</code>, network "
                   "off, as the platform's user: the generated init.sh installed the wheelhouse "
                   "offline, pip check passed, and every shipped distribution's modules were "
                   "imported"
                   + (f"; {len(review.proof.warnings)} module(s) did not import for reasons the "
                      "wheelhouse cannot change:</p><ul>"
                      + "".join(f"<li>{_e(w)}</li>" for w in review.proof.warnings) + "</ul>"
                      if review.proof.warnings else ".</p>"))
    out.append(f'<p class="small">Target image <code>{_e(platform.image)}</code> '
               f'<span class="hash">{_e(platform.image_digest)}</span>. The same facts are in '
               "review.json; the SBOM is sbom.cdx.json (CycloneDX), the lock pylock.toml "
               "(PEP 751).</p></body></html>")
    return "\n".join(out) + "\n"

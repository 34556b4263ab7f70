"""The throughput dashboard, rendered by a real headless Chromium against the real stack."""

import re

import pytest

from tests.support.web_browser import render

TITLE = "Dashboard <b>check</b>"  # markup in data must arrive as text

# The page draws what /v1/stats answers; the stats tests cover both backends
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def chart(dom: str, chart_id: str) -> str:
    match = re.search(rf'<svg[^>]*\bid="{chart_id}"[^>]*>(.*?)</svg>', dom, re.S)
    assert match, f"no <svg id={chart_id}> in the page"
    return match.group(1)


def data_values(svg: str, tag: str, css_class: str, attribute: str = "data-value") -> list[float]:
    pattern = rf'<{tag}\b[^>]*\bclass="{css_class}\b[^"]*"[^>]*>'
    return [
        float(re.search(rf'\b{attribute}="([^"]+)"', element).group(1))
        for element in re.findall(pattern, svg)
    ]


def test_dashboard_draws_throughput_workers_and_recent_jobs(stack):
    with stack.client() as http:
        page = http.get("/dashboard")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert http.get("/dashboard/dashboard.js").status_code == 200
        assert http.get("/dashboard/nothing.py").status_code == 404
        job = http.post(
            "/v1/jobs", json={"text": "The dashboard should draw this job.", "title": TITLE}
        ).json()
    assert stack.wait_for_job(job["id"])["status"] == "succeeded"

    dom = render(f"{stack.api_url}/dashboard")

    assert "<title>kokoro-queue — throughput</title>" in dom
    assert "could not load" not in dom
    throughput = chart(dom, "chart-throughput")
    assert data_values(throughput, "path", "series", "data-points")[0] >= 1
    assert data_values(throughput, "path", "series", "data-max")[0] > 0
    rtf = chart(dom, "chart-worker-rtf")
    assert any(value > 0 for value in data_values(rtf, "rect", "bar"))
    assert data_values(chart(dom, "chart-queue"), "path", "series")
    for chart_id in ("chart-throughput", "chart-worker-rtf", "chart-queue"):
        assert 'class="empty"' not in chart(dom, chart_id), chart_id

    jobs = re.search(r'<table id="recent-jobs">(.*?)</table>', dom, re.S).group(1)
    assert f">{job['id'][:8]}<" in jobs
    assert "Dashboard &lt;b&gt;check&lt;/b&gt;" in jobs and "<b>" not in jobs
    assert re.search(r"chunks done</span><span[^>]*>[1-9]", dom)

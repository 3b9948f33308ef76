"""The report formats, each a consumer of the data every test report carries
(:mod:`pytest_reasoning.report` produces it in ``pytest_runtest_makereport``):

* :mod:`.traces`: a trace's key facts and its reasoning sentence by sentence, with
  the detour hits, path steps and hesitations marked (built on the worker);
* :mod:`.changes`: what changed in each snapshot a test failed (or rewrote), read from
  the test's ``trace_snapshot`` assertions (built on the worker);
* :mod:`.groups`: parametrized tests and multi-trace tests as side-by-side comparisons,
  what differs first (built where the reports are written);
* :mod:`.junit`: each test's key facts as ``--junitxml`` properties;
* :mod:`.entries`: one test's report data as an entry, and the session's totals;
* :mod:`.collect`: the session's closing line and the report files, written where the
  test reports meet (the controller under pytest-xdist);
* :mod:`.markdown`: the Markdown report (a pull request comment, the job summary);
* :mod:`.html`: the self-contained HTML report (Jinja2, templates in
  ``pytest_reasoning/templates``).

Nothing here is imported when the plugin loads; each module imports what it needs.
"""

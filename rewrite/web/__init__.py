"""`rewrite serve`: a local web page to type f, see the answer and its steps, download the proof
and verify identities.  The server (`app.py`, Starlette under uvicorn: the optional extra
`web`) answers JSON built by `service.py`; the page (`page.html`) renders terms as MathML,
which browsers display natively (no script library, no network)."""

"""make play: a page in the browser to play with a trained generator and encoder.

pictures.py computes what the page shows, server.py serves it (Python's http.server), page.html is
the page (plain HTML and JavaScript). They draw with export.Functions: a run's latest checkpoint, or an
export of one.
"""

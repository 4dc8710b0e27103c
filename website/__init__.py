"""The course as a static website, built offline from the notebooks' committed outputs.

``python3 course.py site [--out DIR]`` runs :mod:`website.build`; :mod:`website.check` holds
the checks the build and the tests share (no page loads anything from another host, every
internal link resolves).
"""

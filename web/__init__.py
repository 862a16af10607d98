"""`brownthrower web`: a live, read-only web dashboard over a brownthrower database.

A thin adapter over the public `bt` API, like the shell: pages and a JSON API built from the
same services (`web.data`), guarded by a token cookie and a Host allow-list (`web.security`),
refreshed in place from one shared refresh per second (`web.hub`).
"""

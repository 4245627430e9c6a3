"""/api/v1/prompts…: the registry over REST (scopes prompts:read / prompts:write).

A service fetches `GET /api/v1/prompts/{slug}/resolve` (production by default) once, caches it
for `Cache-Control: max-age`, and revalidates with `If-None-Match`: 304 while nothing it would
receive has changed. Rendering needs only prompts:read even though it is a POST.
"""

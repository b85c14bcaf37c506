"""gen import, along its seams: read, routes, volumes, secrets, passthrough, plan and assembly."""

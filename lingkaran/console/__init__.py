"""The OPD's web console (server-rendered, Starlette + Jinja2): an adapter like the channels,
calling the same services as the chat and the admin CLI."""

"""The aiohttp HTTP API: app factory, routes, views, middlewares, the notification hub."""

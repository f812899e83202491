"""The HTTP API: FastAPI routes over the services, served by ``parley serve``.

``parley.api.app.create_app(settings)`` builds the application; nothing happens at import time.
Modules are named after what they hold: ``settings`` (configuration from the environment),
``errors`` (the one error → status table), ``auth`` (login and sessions), ``access`` (who may see
what), ``schemas`` (request and response models), ``routes`` and ``logroutes`` (the resources),
``live`` (server-sent events) and ``limits`` (body size, JSON depth, request rate).
"""

"""Live model code.

Torch-free, imported by the web server: ``backend`` (requests, results, the
InterventionBackend protocol), ``graph_requests`` and ``jobs``. With torch and
circuit-tracer, run only in model workers, Celery workers, scripts and the command line:
``bundle``, ``tiny_model`` (a package), ``circuit_tracer_backend`` and the serving half of ``worker``.
"""

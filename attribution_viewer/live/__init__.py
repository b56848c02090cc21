"""Live model code (torch, circuit-tracer): bundles and the tiny model. Never imported by the web server."""

# The Home Assistant add-on's image (built by the Supervisor from config.yaml and build.yaml). For plain Docker,
# use deploy/Dockerfile and deploy/compose.yaml instead.
ARG BUILD_FROM=python:3.11-slim-bookworm
FROM ${BUILD_FROM}
RUN apt-get update && apt-get install -y --no-install-recommends tzdata && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/smartsofar
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip install --no-cache-dir . && rm -rf src
ENV PYTHONUNBUFFERED=1
# The add-on's options are in /data/options.json, its state and history in /data.
STOPSIGNAL SIGTERM
CMD ["smartsofar", "addon"]

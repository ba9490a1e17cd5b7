# The image every Airflow service and the simulators run in (see docker-compose.yml).
#
# The slim Airflow image carries no extra providers, and everything on top of it comes from
# constraints.txt, the lock `make install` and `make test` use: the image runs what the tests ran.
# The build context is cut down by .dockerignore to what the image needs (never .env).
FROM apache/airflow:slim-3.3.0-python3.11

# The project folder belongs to the airflow user (uid 50000) the image runs as.
USER root
RUN mkdir -p /opt/puente && chown airflow:root /opt/puente
USER airflow
WORKDIR /opt/puente
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/puente/dags \
    PUENTE_DBT_PROJECT_DIR=/opt/puente/dbt_project \
    PUENTE_ARTIFACTS_DIR=/opt/puente/artifacts \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    DBT_USE_COLORS=False

# Dependencies first, so that a change to the code does not reinstall them. The install is
# editable: the code copied below is what runs.
COPY --chown=airflow:root pyproject.toml constraints.txt README.md ./
RUN mkdir -p puente ml expectations \
 && touch puente/__init__.py ml/__init__.py expectations/__init__.py \
 && pip install --no-cache-dir -c constraints.txt -e '.[celery]'

COPY --chown=airflow:root . .

# The dbt manifest, built into the image: the DAG renders the dbt project from it and never runs
# dbt while Airflow parses the DAG. Parsing does not connect; profiles.yml gets placeholders.
RUN puente dbt-parse && test -s dbt_project/target/manifest.json

# Owned by the airflow user (uid 50000): a named volume mounted here starts as a copy of this
# directory, ownership included, so the ML jobs can write their artifacts to it.
RUN mkdir -p /opt/puente/artifacts /opt/airflow/auth

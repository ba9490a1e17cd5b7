# The image every Airflow service and the simulators run in (see docker-compose.yml).
FROM apache/airflow:3.3.0-python3.11
COPY --chown=airflow:root . /opt/puente
WORKDIR /opt/puente
RUN pip install --no-cache-dir -c constraints.txt -e . "apache-airflow-providers-celery" "redis"
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/puente/dags

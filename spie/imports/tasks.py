"""Background steps of an import (django-tasks): validation of every row, then the commit.

Enqueued by the services with ``transaction.on_commit`` (ids only, JSON-serialisable). Each
stores its progress on the job, so a page reload shows the same state.
"""

from django_tasks import task

from . import services


@task()
def validate_import(job_id):
    job = services.run_validation(job_id)
    return job.status


@task()
def commit_import(job_id, user_id):
    job = services.run_commit(job_id, user_id)
    return job.status

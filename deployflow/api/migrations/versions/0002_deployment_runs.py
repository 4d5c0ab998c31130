"""deployments as runs: the project's port, backend and live deployment, a deployment's commit, its
runner's pid, when it ended and the kind of its error"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("port", sa.Integer, nullable=True))
        batch.add_column(sa.Column("live_deployment_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("backend", sa.String(20), nullable=True))
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("commit", sa.String(64), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer, nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("error_kind", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("error_kind")
        batch.drop_column("finished_at")
        batch.drop_column("pid")
        batch.drop_column("commit")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("backend")
        batch.drop_column("live_deployment_id")
        batch.drop_column("port")

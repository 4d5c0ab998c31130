"""items, with two rows"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    items = op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
    )
    op.bulk_insert(items, [{"id": 1, "name": "first"}, {"id": 2, "name": "second"}])


def downgrade() -> None:
    op.drop_table("items")

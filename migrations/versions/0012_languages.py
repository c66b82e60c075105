"""Each order, waiting-list place and message keeps the language it was asked for in (issue 17).

Revision ID: 0012_languages
Revises: 0011_waiting_room
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_languages'
down_revision = '0011_waiting_room'
branch_labels = None
depends_on = None

_TABLES = ('orders', 'waitlist_entries', 'obligations')


def upgrade():
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='en'))


def downgrade():
    for table in reversed(_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('language')

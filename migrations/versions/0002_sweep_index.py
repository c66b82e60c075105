"""Index holding orders by expiry alone, for the sweep's earliest-first batches.

Revision ID: 0002_sweep_index
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_sweep_index'
down_revision = '0001'
branch_labels = None
depends_on = None

HOLDING = sa.text("status IN ('reserved', 'payment_processing')")


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_holding_by_expiry', ['expires_at'], unique=False,
                              postgresql_where=HOLDING, sqlite_where=HOLDING)


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_holding_by_expiry', postgresql_where=HOLDING, sqlite_where=HOLDING)

"""Bound how long a submitted delayed payment keeps its tickets: a per-event limit
(default 72 hours) and, per order, the instant its pending payment stops holding.

Revision ID: 0004_pending_payment_limit
Revises: 0003_obligations
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_pending_payment_limit'
down_revision = '0003_obligations'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_payment_hours', sa.Integer(), server_default=sa.text('72'),
                                      nullable=False))
        batch_op.create_check_constraint('pending_payment_hours_range', 'pending_payment_hours BETWEEN 1 AND 720')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_until', sa.DateTime(timezone=True), nullable=True))
    # Debits already pending get the default limit from their last change (they held without one).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE orders SET pending_until = updated_at + interval '72 hours' WHERE payment_pending")
    else:
        op.execute("UPDATE orders SET pending_until = datetime(updated_at, '+72 hours') WHERE payment_pending")


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('pending_until')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint('pending_payment_hours_range', type_='check')
        batch_op.drop_column('pending_payment_hours')
